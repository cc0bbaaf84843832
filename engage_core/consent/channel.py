"""The channel subscription aggregate of one contact vector: decide and evolve, pure.

The state keeps every accepted update; its status is their replay in effective-time order
(`rules.channel_state`), so it is the same whatever order they arrived in, and `as_of` is the
same replay cut at a time. An update whose (source kind, source id) was seen before is a
duplicate: re-importing the same CSV file (source id = file and row) changes nothing.

Almost every update is newer than all before it; replaying it last is one step from the current
state, so the aggregate keeps that state (each event records the state its arrival left) and
its newest replay key, and replays in full only when an update arrives out of order. Both ways
give the same answer by construction (replay order is a total order); the properties in
tests/core check it.
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
from engage_core.consent.rules import (
    ReplayKey,
    SubscriptionState,
    Update,
    apply_channel_update,
    arrival,
    channel_state,
    replay_channel,
    standing_error,
)


@attrs.frozen
class ChannelSubscription:
    id: UUID
    version: int
    channel: SubscriptionChannel
    key: str
    updates: tuple[Update, ...] = ()
    current: SubscriptionState = attrs.field(factory=SubscriptionState)  # replay of `updates`
    newest: ReplayKey | None = None  # the greatest replay key among `updates`

    @property
    def seen(self) -> frozenset[tuple[str, str]]:
        return frozenset((u.provenance.kind.value, u.provenance.source_id) for u in self.updates)

    def is_newest(self, update: Update) -> bool:
        """Whether `update` replays after every update so far (the usual case)."""
        return self.newest is None or update.replay_key > self.newest

    def state_before(self, update: Update) -> SubscriptionState:
        """The channel as an update replayed at `update`'s place finds it (a group update is
        judged against this)."""
        if self.is_newest(update):
            return self.current
        key = update.replay_key
        return channel_state([u for u in self.updates if u.replay_key <= key])

    def as_of(self, moment: datetime) -> SubscriptionState:
        return channel_state(self.updates, as_of=moment)


def decide_channel_update(
    state: ChannelSubscription | None, contact: ContactKey, update: Update, *, recorded_at: datetime
) -> ConsentEvent:
    """The one event recording `update` against the subscription in `state`."""
    identity = (update.provenance.kind.value, update.provenance.source_id)
    version = 1 if state is None else state.version + 1
    if state is not None and identity in state.seen:
        standing = standing_error(replay_channel(state.updates), identity)
        return ChannelUpdateDuplicated(
            originator_id=contact.subscription_id, originator_version=version,
            recorded_at=recorded_at, channel=contact.channel, key=contact.key, update=update,
            error=standing,
        )  # fmt: skip
    if state is None or state.is_newest(update):
        before = state.current if state is not None else SubscriptionState()
        verdict = apply_channel_update(before, update)  # = arrival(), replayed last
    else:
        before = state.current
        verdict = arrival(state.updates, update)
    return ChannelUpdateRecorded(
        originator_id=contact.subscription_id,
        originator_version=version,
        recorded_at=recorded_at,
        channel=contact.channel,
        key=contact.key,
        update=update,
        outcome=verdict.outcome,
        error=verdict.error,
        before=before,
        after=verdict.after,
    )


def evolve_channel(state: ChannelSubscription | None, event: ConsentEvent) -> ChannelSubscription:
    if not isinstance(event, ChannelUpdateRecorded):
        if state is None:
            return ChannelSubscription(
                event.originator_id, event.originator_version, event.channel, event.key
            )
        return attrs.evolve(state, version=event.originator_version)
    update = event.update
    if state is None:
        updates: tuple[Update, ...] = (update,)
        newest: ReplayKey | None = update.replay_key
    else:
        updates = (*state.updates, update)
        newest = update.replay_key if state.is_newest(update) else state.newest
    # the event recorded the state its arrival left (the replay with it): a fact, not re-decided
    return ChannelSubscription(
        event.originator_id, event.originator_version, event.channel, event.key,
        updates, event.after, newest,
    )  # fmt: skip


def fold_channel(events: Iterable[ConsentEvent]) -> ChannelSubscription | None:
    state: ChannelSubscription | None = None
    for event in events:
        state = evolve_channel(state, event)
    return state
