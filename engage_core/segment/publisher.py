"""What a message publishes downstream, as a fold: a small state per message (what must be
remembered between its events) and one pure step from an event to the track events it
publishes and the state after it.

The outbox applies the log a page at a time and cannot keep every message in memory, so it
stores this state between a message's events and hands it back for the next one. Keeping the
whole decision here (which send record an event carries, whether `Processed` went out already)
means the outbox only loads, stores and writes rows, and that folding a message's events in one
go, page by page, live or on a rebuild, publishes the same events.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from engage_core.consent.events import (
    ChannelUpdateRecorded,
    GroupStateRejudged,
    GroupUpdateRecorded,
)
from engage_core.message.events import MessageEvent, SendRecorded
from engage_core.message.evolve import merge_send
from engage_core.observations import Send
from engage_core.segment.mapping import (
    EventSettings,
    consent_events,
    message_events,
    publishes_processed,
)
from engage_core.segment.track import TrackEvent

__all__ = [
    "NOTHING_PUBLISHED",
    "Published",
    "publish",
    "publish_all",
    "publish_fact",
]


@attrs.frozen
class Published:
    """What the publisher remembers of one message between its events."""

    # the message's send record so far (every record merged, the first value of a field
    # standing), which its later events carry (campaign, user)
    send: Send | None = None
    # its `Processed` event went out (it is published once, for the first fact saying so)
    processed: bool = False


NOTHING_PUBLISHED = Published()
"""A message the publisher has seen no event of."""


def publish(
    memory: Published, event: MessageEvent, settings: EventSettings
) -> tuple[Published, list[TrackEvent]]:
    """The message's memory after `event`, and the track events `event` publishes."""
    send = memory.send
    if isinstance(event, SendRecorded):
        send = merge_send(memory.send, event.send)
    published = message_events(event, send, settings, processed_published=memory.processed)
    return Published(send, memory.processed or publishes_processed(published)), published


def publish_fact(event: object, settings: EventSettings) -> list[TrackEvent]:
    """The track events a fact that is no message's event publishes: a consent update's or
    a re-judged group's; nothing for any other event. Consent facts carry their states before
    and after, so they need no memory."""
    if isinstance(event, ChannelUpdateRecorded | GroupUpdateRecorded | GroupStateRejudged):
        return consent_events(event, settings)
    return []


def publish_all(
    events: Iterable[MessageEvent],
    settings: EventSettings,
    memory: Published = NOTHING_PUBLISHED,
) -> tuple[Published, list[TrackEvent]]:
    """One message's events folded in order from `memory`: its memory after them and every
    track event they publish (what a reader of the whole message at once would publish)."""
    published: list[TrackEvent] = []
    for event in events:
        memory, tracks = publish(memory, event, settings)
        published.extend(tracks)
    return memory, published
