"""An address's subscription to one group: decide and evolve, pure.

Like the channel subscription (`channel.py`), it keeps its updates and derives its state by
replay; unlike it, each update is judged against the address's channel state at that update's
effective time, so deciding (and answering) needs the channel's updates too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from engage_core.consent.channel import ChannelSubscription
from engage_core.consent.contacts import ContactKey, group_subscription_id
from engage_core.consent.events import (
    ConsentEvent,
    GroupStateRejudged,
    GroupUpdateDuplicated,
    GroupUpdateRecorded,
)
from engage_core.consent.rules import (
    SubscriptionState,
    Update,
    apply_group_update,
    arrival,
    group_state,
    replay_group,
    standing_error,
)


@attrs.frozen
class GroupSubscription:
    id: UUID
    version: int
    email: str
    group: str
    updates: tuple[Update, ...] = ()

    @property
    def seen(self) -> frozenset[tuple[str, str]]:
        return frozenset((u.provenance.kind.value, u.provenance.source_id) for u in self.updates)

    def state(
        self, channel_updates: Sequence[Update], as_of: datetime | None = None
    ) -> SubscriptionState:
        return group_state(self.updates, channel_updates, as_of=as_of)


def decide_group_update(
    state: GroupSubscription | None,
    email: ContactKey,
    group: str,
    update: Update,
    channel: ChannelSubscription | None,
    *,
    recorded_at: datetime,
) -> ConsentEvent:
    """The one event recording `update` of `email`'s subscription to `group`, judged against
    the address's channel subscription."""
    common = {
        "originator_id": group_subscription_id(email, group),
        "originator_version": 1 if state is None else state.version + 1,
        "recorded_at": recorded_at,
        "channel": email.channel,
        "key": email.key,
        "update": update,
        "group": group,
    }
    identity = (update.provenance.kind.value, update.provenance.source_id)
    if state is not None and identity in state.seen:
        channel_updates = channel.updates if channel is not None else ()
        standing = standing_error(replay_group(state.updates, channel_updates), identity)
        return GroupUpdateDuplicated(**common, error=standing)  # type: ignore[arg-type]
    if state is None:  # a first update replays alone: one step (bulk imports mostly do this)
        before = SubscriptionState()
        channel_now = channel.state_before(update) if channel is not None else before
        verdict = apply_group_update(before, update, channel_now.status)
    else:
        channel_updates = channel.updates if channel is not None else ()
        before = group_state(state.updates, channel_updates)
        verdict = arrival(
            state.updates, update, lambda updates: replay_group(updates, channel_updates)
        )
    return GroupUpdateRecorded(
        **common,  # type: ignore[arg-type]
        outcome=verdict.outcome,
        error=verdict.error,
        before=before,
        after=verdict.after,
    )


def evolve_group(state: GroupSubscription | None, event: ConsentEvent) -> GroupSubscription:
    assert isinstance(event, GroupUpdateRecorded | GroupUpdateDuplicated | GroupStateRejudged)
    if state is None:
        state = GroupSubscription(event.originator_id, 0, event.key, event.group)
    updates = state.updates
    if isinstance(event, GroupUpdateRecorded):
        updates = (*updates, event.update)
    return attrs.evolve(state, version=event.originator_version, updates=updates)


def fold_group(events: Iterable[ConsentEvent]) -> GroupSubscription | None:
    state: GroupSubscription | None = None
    for event in events:
        state = evolve_group(state, event)
    return state


def rejudge_group(
    state: GroupSubscription | None,
    email: ContactKey,
    before: ChannelSubscription | None,
    after: ChannelSubscription,
    cause: Update,
    *,
    recorded_at: datetime,
) -> GroupStateRejudged | None:
    """The event recording that a channel update changed this group's state, or None. Only an
    update that replays before some of the group's own updates can (each group update is
    judged against the channel updates that replay no later than it)."""
    if state is None or not state.updates:
        return None
    if cause.replay_key > max(u.replay_key for u in state.updates):
        return None
    was = group_state(state.updates, before.updates if before is not None else ())
    now = group_state(state.updates, after.updates)
    if (was.status, was.locked_by_user) == (now.status, now.locked_by_user):
        return None
    return GroupStateRejudged(
        originator_id=state.id, originator_version=state.version + 1, recorded_at=recorded_at,
        channel=email.channel, key=email.key, update=cause, group=state.group,
        before=was, after=now,
    )  # fmt: skip
