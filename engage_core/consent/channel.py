"""The channel subscription aggregate of one contact vector: decide and evolve, pure.

The state keeps every accepted update; its status is their replay in effective-time order
(`rules.channel_state`), so it is the same whatever order they arrived in, and `as_of` is the
same replay cut at a time. An update whose (source kind, source id) was seen before is a
duplicate: re-importing the same CSV file (source id = file and row) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import attrs

from engage_core.consent.contacts import ContactKey, SubscriptionChannel
from engage_core.consent.events import (
    ChannelUpdateDuplicated,
    ChannelUpdateRecorded,
    ConsentEvent,
)
from engage_core.consent.rules import SubscriptionState, Update, arrival, channel_state


@attrs.frozen
class ChannelSubscription:
    id: UUID
    version: int
    channel: SubscriptionChannel
    key: str
    updates: tuple[Update, ...] = ()

    @property
    def seen(self) -> frozenset[tuple[str, str]]:
        return frozenset((u.provenance.kind.value, u.provenance.source_id) for u in self.updates)

    @property
    def current(self) -> SubscriptionState:
        return channel_state(self.updates)

    def as_of(self, moment: datetime) -> SubscriptionState:
        return channel_state(self.updates, as_of=moment)


def decide_channel_update(
    state: ChannelSubscription | None, contact: ContactKey, update: Update, *, recorded_at: datetime
) -> ConsentEvent:
    """The one event recording `update` against the subscription in `state`."""
    identity = (update.provenance.kind.value, update.provenance.source_id)
    version = 1 if state is None else state.version + 1
    if state is not None and identity in state.seen:
        return ChannelUpdateDuplicated(
            originator_id=contact.subscription_id, originator_version=version,
            recorded_at=recorded_at, channel=contact.channel, key=contact.key, update=update,
        )  # fmt: skip
    earlier = state.updates if state is not None else ()
    verdict = arrival(earlier, update)
    return ChannelUpdateRecorded(
        originator_id=contact.subscription_id,
        originator_version=version,
        recorded_at=recorded_at,
        channel=contact.channel,
        key=contact.key,
        update=update,
        outcome=verdict.outcome,
        error=verdict.error,
        before=channel_state(earlier),
        after=verdict.after,
    )


def evolve_channel(state: ChannelSubscription | None, event: ConsentEvent) -> ChannelSubscription:
    if state is None:
        state = ChannelSubscription(event.originator_id, 0, event.channel, event.key)
    updates = state.updates
    if isinstance(event, ChannelUpdateRecorded):
        updates = (*updates, event.update)
    return attrs.evolve(state, version=event.originator_version, updates=updates)


def fold_channel(events: Iterable[ConsentEvent]) -> ChannelSubscription | None:
    state: ChannelSubscription | None = None
    for event in events:
        state = evolve_channel(state, event)
    return state
