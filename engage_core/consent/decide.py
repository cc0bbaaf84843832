"""Pure decisions of the consent aggregates: the one event that records each change.

Each decision looks at the state it is given and returns the event to save; nothing here reads
a store or a clock. The cross-aggregate decision of a whole batch (a group change sees the
channel changes before it; a late channel change re-judges groups) is `batch.decide_consent`.
"""

from __future__ import annotations

from datetime import datetime

from engage_core.consent.contacts import ContactKey, directory_id, group_subscription_id
from engage_core.consent.events import (
    ChannelUpdateDuplicated,
    ChannelUpdateRecorded,
    GroupListed,
    GroupStateRejudged,
    GroupUpdateDuplicated,
    GroupUpdateRecorded,
)
from engage_core.consent.rules import (
    SubscriptionState,
    Update,
    apply_channel_update,
    apply_group_update,
    arrival,
    group_state,
    replay_channel,
    replay_group,
    standing_error,
)
from engage_core.consent.state import (
    ChannelSubscription,
    GroupDirectory,
    GroupSubscription,
    identity_of,
)

# A subscription that was never set; states are immutable, so every decision may share it.
_NO_STATE = SubscriptionState()


def decide_channel_update(
    state: ChannelSubscription | None, contact: ContactKey, update: Update, *, recorded_at: datetime
) -> ChannelUpdateRecorded | ChannelUpdateDuplicated:
    """The one event recording `update` against the subscription in `state`. An update whose
    (source kind, source id) was seen before is a duplicate: re-importing the same CSV file
    (source id = file and row) changes nothing."""
    version = 1 if state is None else state.version + 1
    if state is not None and (identity := identity_of(update)) in state.seen:
        standing = standing_error(replay_channel(state.updates), identity)
        return ChannelUpdateDuplicated(
            originator_id=contact.subscription_id, originator_version=version,
            recorded_at=recorded_at, channel=contact.channel, key=contact.key, update=update,
            error=standing,
        )  # fmt: skip
    if state is None or state.is_newest(update):
        before = state.current if state is not None else _NO_STATE
        verdict = apply_channel_update(before, update)  # = arrival(), replayed last
    else:
        before = state.current
        verdict = arrival(state.updates, update)
    return ChannelUpdateRecorded(
        originator_id=contact.subscription_id, originator_version=version,
        recorded_at=recorded_at, channel=contact.channel, key=contact.key, update=update,
        outcome=verdict.outcome, error=verdict.error, before=before, after=verdict.after,
    )  # fmt: skip


def decide_group_update(
    state: GroupSubscription | None,
    email: ContactKey,
    group: str,
    update: Update,
    channel: ChannelSubscription | None,
    *,
    recorded_at: datetime,
) -> GroupUpdateRecorded | GroupUpdateDuplicated:
    """The one event recording `update` of `email`'s subscription to `group`, each update
    judged against the address's channel as it stood at that update's place in replay."""
    common = {
        "originator_id": group_subscription_id(email, group),
        "originator_version": 1 if state is None else state.version + 1,
        "recorded_at": recorded_at,
        "channel": email.channel,
        "key": email.key,
        "update": update,
        "group": group,
    }
    channel_updates = channel.updates if channel is not None else ()
    identity = identity_of(update)
    if state is not None and identity in state.seen:
        standing = standing_error(replay_group(state.updates, channel_updates), identity)
        return GroupUpdateDuplicated(**common, error=standing)  # type: ignore[arg-type]
    if state is None:  # a first update replays alone: one step (bulk imports mostly do this)
        before = _NO_STATE
        channel_now = channel.state_before(update) if channel is not None else before
        verdict = apply_group_update(before, update, channel_now.status)
    else:
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


def decide_listing(
    state: GroupDirectory | None, email: ContactKey, group: str, *, recorded_at: datetime
) -> GroupListed | None:
    """The event listing `group` for `email`, or None when it is listed already."""
    if state is not None and group in state.groups:
        return None
    return GroupListed(
        originator_id=directory_id(email),
        originator_version=1 if state is None else state.version + 1,
        recorded_at=recorded_at,
        channel=email.channel,
        key=email.key,
        group=group,
    )
