"""The consent commands and queries of the Engage application (issue 3, in progress).

A mixin of `EngageApplication`, kept apart so each concern stays a small module: it decides
against the channel and group subscription aggregates and saves through the application's
shared `_save_retrying` (one `save()` per call, optimistic-concurrency conflicts retried).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import EventStore

from engage_core.clock import ClockSkewPolicy
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.channel import (
    ChannelSubscription,
    decide_channel_update,
    evolve_channel,
    fold_channel,
)
from engage_core.consent.contacts import (
    ContactKey,
    SubscriptionChannel,
    group_subscription_id,
    normalise_group_name,
)
from engage_core.consent.directory import (
    GroupDirectory,
    GroupListed,
    decide_listing,
    directory_id,
    evolve_directory,
    fold_directory,
)
from engage_core.consent.events import ANSWERS, ChannelUpdateRecorded, ConsentEvent
from engage_core.consent.group import (
    GroupSubscription,
    decide_group_update,
    evolve_group,
    fold_group,
    rejudge_group,
)
from engage_core.consent.rules import (
    SendPermission,
    SubscriptionState,
    Update,
    Verdict,
    can_send,
    replay_channel,
)

Decided = list[ConsentEvent | GroupListed]
Decide = Callable[[datetime], tuple[Decided, Callable[[], None]]]


@attrs.frozen
class SubscriptionAnswer:
    """A contact vector's subscription as a query answers it."""

    contact: ContactKey
    state: SubscriptionState
    groups: Mapping[str, SubscriptionState]
    user_ids: tuple[str, ...]
    history: tuple[tuple[Update, Verdict], ...]  # every update, in replay order, with its verdict


class ConsentCommands:
    """Channel and group subscriptions: set them, ask about them."""

    events: EventStore[UUID]  # the application's event store
    clock_skew: ClockSkewPolicy  # how far ahead of ours a source's clock may be

    def _save_consent(self, decide: Decide) -> Decided:
        raise NotImplementedError  # EngageApplication saves through its shared retry loop

    def _events_of_many(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, list[Any]]:
        raise NotImplementedError  # EngageApplication reads many aggregates in one query

    def set_channel_subscriptions(
        self, changes: Iterable[tuple[ContactKey, Update]]
    ) -> list[ConsentEvent]:
        """Apply updates to channel subscriptions, in order, saved in one save(); the events
        say what each did (outcome, error code, state before and after)."""
        return self.change_consent([ChannelChange(c, u) for c, u in changes])

    def set_group_subscriptions(
        self, changes: Iterable[tuple[ContactKey, str, Update]]
    ) -> list[ConsentEvent]:
        """Apply updates to group subscriptions (email address, group name, update), in order,
        saved in one save(); an operator's change needs the address's channel SUBSCRIBED."""
        return self.change_consent([GroupChange(e, g, update=u) for e, g, u in changes])

    def change_consent(self, changes: Iterable[ConsentChange]) -> list[ConsentEvent]:
        """Apply channel and group changes, in order, saved in one save(); returns one event
        per change, saying what it did."""
        wanted = list(changes)

        def decide(now: datetime) -> tuple[Decided, Callable[[], None]]:
            return self._decide_consent(wanted, now), lambda: None

        saved = self._save_consent(decide)
        return [e for e in saved if isinstance(e, ANSWERS)]

    def _decide_consent(
        self, changes: Sequence[ConsentChange], now: datetime
    ) -> list[ConsentEvent | GroupListed]:
        """The events recording `changes`, one per change in order, then the listings of
        groups new to their addresses; a group change sees the channel changes decided before
        it in the same batch."""
        # no source's clock outranks the others by claiming the future (engage_core/clock.py)
        changes = [attrs.evolve(c, update=self.clock_skew.update(c.update, now)) for c in changes]
        contacts = {c.contact if isinstance(c, ChannelChange) else c.email for c in changes}
        emails = {c for c in contacts if c.channel is SubscriptionChannel.EMAIL}
        group_ids = {c.subscription_id for c in changes if isinstance(c, GroupChange)}
        directory_ids = {directory_id(c) for c in emails}
        stored = self._events_of_many(
            [*(c.subscription_id for c in contacts), *group_ids, *directory_ids]
        )
        channels = {c.subscription_id: fold_channel(stored[c.subscription_id]) for c in contacts}
        directories = {key: fold_directory(stored[key]) for key in directory_ids}
        # the groups an email channel change may rejudge: every group its address has
        listed = {
            group_subscription_id(c, g)
            for c in emails
            if (d := directories[directory_id(c)]) is not None
            for g in d.groups
        }
        more = self._events_of_many(listed - group_ids) if listed - group_ids else {}
        groups = {
            key: fold_group(stored.get(key) or more.get(key) or []) for key in group_ids | listed
        }
        events: list[ConsentEvent] = []
        listings: list[GroupListed] = []
        for change in changes:
            if isinstance(change, ChannelChange):
                key = change.contact.subscription_id
                before = channels[key]
                event = decide_channel_update(
                    before, change.contact, change.update, recorded_at=now
                )
                channels[key] = after = evolve_channel(before, event)
                events.append(event)
                if change.contact in emails and isinstance(event, ChannelUpdateRecorded):
                    events.extend(
                        self._rejudge(groups, directories, change.contact, before, after,
                                      change.update, now)
                    )  # fmt: skip
                continue
            else:
                key = change.subscription_id
                channel = channels[change.email.subscription_id]
                event = decide_group_update(
                    groups[key], change.email, change.group, change.update, channel,
                    recorded_at=now,
                )  # fmt: skip
                groups[key] = evolve_group(groups[key], event)
                where = directory_id(change.email)
                listing = decide_listing(
                    directories[where], change.email, change.group, recorded_at=now
                )
                if listing is not None:
                    directories[where] = evolve_directory(directories[where], listing)
                    listings.append(listing)
            events.append(event)
        return [*events, *listings]

    @staticmethod
    def _rejudge(
        groups: dict[UUID, GroupSubscription | None],
        directories: Mapping[UUID, GroupDirectory | None],
        email: ContactKey,
        before: ChannelSubscription | None,
        after: ChannelSubscription,
        cause: Update,
        now: datetime,
    ) -> list[ConsentEvent]:
        """The group states of `email` that a channel update changed, recorded."""
        directory = directories.get(directory_id(email))
        found: list[ConsentEvent] = []
        for name in directory.groups if directory is not None else ():
            key = group_subscription_id(email, name)
            event = rejudge_group(groups.get(key), email, before, after, cause, recorded_at=now)
            if event is not None:
                groups[key] = evolve_group(groups[key], event)
                found.append(event)
        return found

    def subscription(
        self,
        contact: ContactKey,
        *,
        groups: Iterable[str] | None = None,
        as_of: datetime | None = None,
    ) -> SubscriptionAnswer:
        """What holds for a contact vector (now, or as of a time): its channel state, its
        groups' (for an email address: every group it has, unless `groups` names some), the
        user ids linked to it, and its history with provenance."""
        channel = self.channel_subscription(contact)
        updates = channel.updates if channel is not None else ()
        if channel is None:
            state = SubscriptionState()
        else:
            state = channel.as_of(as_of) if as_of is not None else channel.current
        if groups is None:
            groups = self.groups_of(contact) if contact.channel is SubscriptionChannel.EMAIL else ()
        group_states = {
            name: self.group_subscription(contact, name, as_of=as_of) for name in groups
        }
        return SubscriptionAnswer(
            contact=contact,
            state=state,
            groups=group_states,
            user_ids=tuple(sorted({u.provenance.user_id for u in updates if u.provenance.user_id})),
            history=tuple(replay_channel(updates, as_of=as_of)),
        )

    def can_send(
        self, contact: ContactKey, *, group: str | None = None, transactional: bool = False
    ) -> SendPermission:
        """Whether a message may go to a contact vector now (DOMAIN.md §3)."""
        channel = self.channel_subscription(contact)
        group_state = self.group_subscription(contact, group) if group is not None else None
        return can_send(
            channel.current if channel is not None else SubscriptionState(), group_state,
            transactional=transactional,
        )  # fmt: skip

    def groups_of(self, email: ContactKey) -> tuple[str, ...]:
        """The groups an address has ever had an update for, in the order first seen."""
        events: Iterable[Any] = self.events.get(directory_id(email))
        directory = fold_directory(events)
        return directory.groups if directory is not None else ()

    def group_subscription(
        self, email: ContactKey, group: str, *, as_of: datetime | None = None
    ) -> SubscriptionState:
        """An address's state in a group (judged against its channel), now or as of a time."""
        found = self._group(email, normalise_group_name(group))
        if found is None:
            return SubscriptionState()
        channel = self.channel_subscription(email)
        return found.state(channel.updates if channel else (), as_of=as_of)

    def _group(self, email: ContactKey, group: str) -> GroupSubscription | None:
        events: Iterable[Any] = self.events.get(group_subscription_id(email, group))
        return fold_group(events)

    def channel_subscription(self, contact: ContactKey) -> ChannelSubscription | None:
        """A contact vector's channel subscription (all its updates; status by replay)."""
        events: Iterable[Any] = self.events.get(contact.subscription_id)
        return fold_channel(events)
