"""Fold message events into state: a pure function, the rules of how state changes.

(`message.draft` applies the same rules in place to fold a batch, freezing once per message;
a property holds the two equal.)

No validation happens here: the decision was made (and recorded in the event) when the event
was created, so old events keep loading after the lifecycle tables change. States are built
with their constructor rather than `attrs.evolve` (half the cost, on the hottest path we have).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from engage_core.lifecycles import lifecycle
from engage_core.message.events import (
    DuplicateIgnored,
    MessageEvent,
    Observed,
    SendRecorded,
)
from engage_core.message.state import Engagement, MessageState
from engage_core.observations import Send


def _start(event: MessageEvent) -> MessageState:
    return MessageState(
        id=event.originator_id,
        version=0,
        channel=event.channel,
        provider=event.provider,
        provider_message_id=event.provider_message_id,
    )


def merge_send(current: Send | None, new: Send) -> Send:
    """The first value recorded for a field stands; later records fill only what is missing.
    Public because every reader of a message's send record (the aggregate, the outbox's
    publisher) must merge repeated records by this one rule."""
    if current is None:
        return new
    filled = {
        field.name: getattr(new, field.name)
        for field in attrs.fields(Send)
        if getattr(current, field.name) is None and getattr(new, field.name) is not None
    }
    return attrs.evolve(current, **filled) if filled else current


def _send_recorded(event: SendRecorded, state: MessageState) -> MessageState:
    return MessageState(
        id=state.id,
        version=event.originator_version,
        channel=state.channel,
        provider=state.provider,
        provider_message_id=state.provider_message_id,
        status=event.status_after,
        send=merge_send(state.send, event.send),
        engagement=state.engagement,
        seen=state.seen.union(event.dedup_keys),
        known=state.known | {lifecycle(state.channel).initial},
        reported=state.reported,  # our own record: not a provider's report of `processed`
    )


def _observed(event: Observed, state: MessageState) -> MessageState:
    engagement = state.engagement
    known = state.known.union(event.inferred) if event.inferred else state.known
    reported = state.reported
    if lifecycle(state.channel).is_engagement(event.status):
        at = event.occurred_at or event.recorded_at
        tally = engagement.get(event.status)
        engagement = {
            **engagement,
            event.status: tally.add(at) if tally else Engagement(1, at, at),
        }
    else:
        if event.status not in known:
            known = known | {event.status}
        if event.status not in reported:
            reported = reported | {event.status}
    return MessageState(
        id=state.id,
        version=event.originator_version,
        channel=state.channel,
        provider=state.provider,
        provider_message_id=state.provider_message_id,
        status=event.status_after,
        send=state.send,
        engagement=engagement,
        seen=state.seen.union(event.dedup_keys),
        known=known,
        reported=reported,
    )


def _duplicate_ignored(event: DuplicateIgnored, state: MessageState) -> MessageState:
    # a duplicate may bring a key the message has not seen (a retry under a new event id):
    # remembering it makes a third copy a duplicate too, whichever copy it matches
    return attrs.evolve(
        state, version=event.originator_version, seen=state.seen.union(event.dedup_keys)
    )


# The table of contents: which function folds which event. A dict lookup on the exact class
# (these events are final) costs a fifth of `functools.singledispatch`, on the hottest path.
_HANDLERS: dict[type[MessageEvent], Callable[[Any, MessageState], MessageState]] = {
    SendRecorded: _send_recorded,
    Observed: _observed,
    DuplicateIgnored: _duplicate_ignored,
}


def evolve(state: MessageState | None, event: MessageEvent) -> MessageState:
    """The state after `event`; `None` stands for a message with no events yet."""
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise TypeError(f"not a message event: {type(event).__name__}")
    return handler(event, state if state is not None else _start(event))


def fold(events: Iterable[MessageEvent], state: MessageState | None = None) -> MessageState | None:
    """Replay events in order onto `state` (or onto nothing)."""
    for event in events:
        state = evolve(state, event)
    return state
