"""What holds for a contact: consent queries over any reader of an aggregate's events.

Each query reads the few aggregates it needs (the channel, its groups, the directory) through
`events_of` and folds them; nothing here writes. The application passes its event store's
reader; a test or a tool can pass any function returning an aggregate's events in order.

Suppression (`engage_core.suppression`) is a state of its own beside consent, read here too:
`subscription` shows it, and `may_send` refuses a suppressed contact whatever its consent,
for marketing and transactional sends alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings, lapsed
from engage_core.consent.contacts import (
    ContactKey,
    directory_id,
    group_subscription_id,
    normalise_group_name,
)
from engage_core.consent.evolve import fold_channel, fold_directory, fold_group
from engage_core.consent.rules import (
    ConsentOutcome,
    SendPermission,
    SubscriptionState,
    SubscriptionStatus,
    Update,
    Verdict,
    as_utc,
    can_send,
    replay_channel,
)
from engage_core.consent.state import ChannelSubscription
from engage_core.ports import EventsOf
from engage_core.suppression.policy import Suppression
from engage_core.suppression.queries import suppression_now


@attrs.frozen
class SubscriptionAnswer:
    """A contact vector's subscription as a query answers it."""

    contact: ContactKey
    state: SubscriptionState
    groups: Mapping[str, SubscriptionState]
    user_ids: tuple[str, ...]
    history: tuple[tuple[Update, Verdict], ...]  # every update, in replay order, with its verdict
    # the contact's suppression (None: not suppressed), as recorded then for an `as_of`
    suppression: Suppression | None = None

    def lapsed(self, at: datetime, settings: ConsentSettings) -> SubscriptionAnswer:
        """This answer as it reads at `at`: a PENDING nobody confirmed within the window (from
        when its request was recorded) is no state (`consent.confirmation.lapsed`)."""
        requested = next(
            (u.provenance.recorded_at for u, v in reversed(self.history)
             if v.outcome is ConsentOutcome.APPLIED and v.after.status is _PENDING),
            None,
        )  # fmt: skip
        state = lapsed(self.state, at, settings, requested)
        return self if state is self.state else attrs.evolve(self, state=state)


_PENDING = SubscriptionStatus.PENDING


def channel_subscription(events_of: EventsOf, contact: ContactKey) -> ChannelSubscription | None:
    """A contact vector's channel subscription (all its updates; status by replay)."""
    return fold_channel(events_of(contact.subscription_id))


def groups_of(events_of: EventsOf, email: ContactKey) -> tuple[str, ...]:
    """The groups an address has ever had an update for, in the order first seen."""
    directory = fold_directory(events_of(directory_id(email)))
    return directory.groups if directory is not None else ()


def group_subscription(
    events_of: EventsOf, email: ContactKey, group: str, *, as_of: datetime | None = None
) -> SubscriptionState:
    """An address's state in a group (judged against its channel), now or as of a time."""
    found = fold_group(events_of(group_subscription_id(email, normalise_group_name(group))))
    if found is None:
        return SubscriptionState()
    channel = channel_subscription(events_of, email)
    return found.state(channel.updates if channel else (), as_of=as_of)


def subscription(
    events_of: EventsOf,
    contact: ContactKey,
    *,
    groups: Iterable[str] | None = None,
    as_of: datetime | None = None,
) -> SubscriptionAnswer:
    """What holds for a contact vector (now, or as of a time): its channel state, its
    groups' (for an email address: every group it has, unless `groups` names some), the
    user ids linked to it, and its history with provenance (a time without a zone is UTC)."""
    as_of = as_utc(as_of) if as_of is not None else None
    channel = channel_subscription(events_of, contact)
    updates = channel.updates if channel is not None else ()
    if channel is None:
        state = SubscriptionState()
    else:
        state = channel.as_of(as_of) if as_of is not None else channel.current
    if groups is None:
        is_email = contact.channel is Channel.EMAIL
        groups = groups_of(events_of, contact) if is_email else ()
    return SubscriptionAnswer(
        contact=contact,
        state=state,
        groups={name: group_subscription(events_of, contact, name, as_of=as_of) for name in groups},
        user_ids=tuple(sorted({u.provenance.user_id for u in updates if u.provenance.user_id})),
        history=tuple(replay_channel(updates, as_of=as_of)),
        suppression=suppression_now(events_of, contact, as_of=as_of),
    )


def may_send(
    events_of: EventsOf,
    contact: ContactKey,
    *,
    group: str | None = None,
    transactional: bool = False,
) -> SendPermission:
    """Whether a message may go to a contact vector now (DOMAIN.md §3): never to a suppressed
    contact, marketing or transactional, whatever its consent (the reason names the policy,
    `suppressed by policy@v1: hard bounce (since …)`: what no consent change can fix is said
    first); else the consent rules' answer."""
    channel = channel_subscription(events_of, contact)
    group_state = group_subscription(events_of, contact, group) if group is not None else None
    suppressed = suppression_now(events_of, contact)
    if suppressed is not None:
        return SendPermission(False, suppressed.describe())
    return can_send(
        channel.current if channel is not None else SubscriptionState(), group_state,
        transactional=transactional,
    )  # fmt: skip
