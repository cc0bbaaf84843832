"""The consent decision of one batch of changes, across aggregates: pure.

A batch mixes channel and group changes of many contacts. Each change is decided against the
states as the changes before it in the batch left them, so a group change sees the channel
change just before it; an email channel change that replays before some of a group's own
updates re-judges that group (`decide.rejudge_group`); the first update of a group lists it in
the address's directory. Loading is not done here: `reads` names the aggregates to load, then
`listed_group_reads` the groups the loaded directories name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from engage_core.channels import Channel
from engage_core.clock import DEFAULT_CLOCK_SKEW, ClockSkewPolicy
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey, group_subscription_id
from engage_core.consent.decide import (
    decide_channel_update,
    decide_group_update,
    decide_listing,
    rejudge_group,
)
from engage_core.consent.events import ChannelUpdateRecorded, ConsentEvent, GroupListed
from engage_core.consent.evolve import evolve_channel, evolve_directory, evolve_group
from engage_core.consent.rules import Update
from engage_core.consent.state import (
    ChannelSubscription,
    ConsentState,
    GroupDirectory,
    GroupSubscription,
)

ConsentStates = Mapping[UUID, ConsentState | None]  # by aggregate id; None: no events yet
Decided = list[ConsentEvent | GroupListed]


def _contact_of(change: ConsentChange) -> ContactKey:
    return change.contact if isinstance(change, ChannelChange) else change.email


def reads(changes: Iterable[ConsentChange]) -> set[UUID]:
    """The aggregates a batch is decided against: every contact's channel, every group
    changed, every address's directory."""
    found: set[UUID] = set()
    for change in changes:
        if isinstance(change, ChannelChange):
            contact = change.contact
        else:
            contact = change.email
            found.add(change.subscription_id)
        found.add(contact.subscription_id)
        if contact.channel is Channel.EMAIL:
            found.add(contact.directory_id)
    return found


def listed_group_reads(changes: Iterable[ConsentChange], states: ConsentStates) -> set[UUID]:
    """The groups the batch's addresses have (by their loaded directories): a channel change
    may re-judge any of them."""
    found: set[UUID] = set()
    for change in changes:
        email = _contact_of(change)
        if email.channel is not Channel.EMAIL:
            continue
        directory = states.get(email.directory_id)
        if isinstance(directory, GroupDirectory):
            found.update(group_subscription_id(email, g) for g in directory.groups)
    return found


@attrs.frozen
class ConsentDecision:
    """The events a batch records (one per change in order, re-judged groups right after the
    channel change that caused them, then the new listings), and every state after them."""

    events: Decided
    states: dict[UUID, ConsentState | None]


def decide_consent(
    states: ConsentStates,
    changes: Sequence[ConsentChange],
    now: datetime,
    *,
    clock_skew: ClockSkewPolicy = DEFAULT_CLOCK_SKEW,
) -> Decided:
    """The events recording `changes` against `states` (which must hold every aggregate
    `reads` and `listed_group_reads` name), decided at `now`."""
    return decide_consent_batch(states, changes, now, clock_skew=clock_skew).events


def decide_consent_batch(
    states: ConsentStates,
    changes: Sequence[ConsentChange],
    now: datetime,
    *,
    clock_skew: ClockSkewPolicy = DEFAULT_CLOCK_SKEW,
) -> ConsentDecision:
    """As `decide_consent`, with the states after the events (what a cache remembers)."""
    batch = _Batch(dict(states), now)
    for change in changes:
        # no source's clock outranks the others by claiming the future (engage_core/clock.py)
        update = clock_skew.update(change.update, now)
        if update is not change.update:
            change = attrs.evolve(change, update=update)
        if isinstance(change, ChannelChange):
            batch.channel_change(change)
        else:
            batch.group_change(change)
    return ConsentDecision([*batch.events, *batch.listings], batch.states)


_NOT_LOADED: Any = object()  # what `_Batch._state` finds for an aggregate no one loaded


class _Batch:
    """The states as the changes decided so far left them, and the events recording them."""

    def __init__(self, states: dict[UUID, ConsentState | None], now: datetime) -> None:
        self.states = states
        self.now = now
        self.events: list[ConsentEvent] = []
        self.listings: list[GroupListed] = []

    def _state(self, key: UUID, kind: type[ConsentState]) -> ConsentState | None:
        state = self.states.get(key, _NOT_LOADED)
        if state is _NOT_LOADED:
            raise KeyError(f"consent state {key} was not loaded for this batch")
        if state is not None and not isinstance(state, kind):
            raise TypeError(f"aggregate {key} is a {type(state).__name__}, not {kind.__name__}")
        return state

    def channel(self, key: UUID) -> ChannelSubscription | None:
        state = self._state(key, ChannelSubscription)
        return state if isinstance(state, ChannelSubscription) else None

    def group(self, key: UUID) -> GroupSubscription | None:
        state = self._state(key, GroupSubscription)
        return state if isinstance(state, GroupSubscription) else None

    def directory(self, key: UUID) -> GroupDirectory | None:
        state = self._state(key, GroupDirectory)
        return state if isinstance(state, GroupDirectory) else None

    def channel_change(self, change: ChannelChange) -> None:
        contact, key = change.contact, change.contact.subscription_id
        before = self.channel(key)
        event = decide_channel_update(before, contact, change.update, recorded_at=self.now)
        self.states[key] = after = evolve_channel(before, event)
        self.events.append(event)
        if contact.channel is Channel.EMAIL and isinstance(event, ChannelUpdateRecorded):
            self.rejudge(contact, before, after, change.update)

    def rejudge(
        self,
        email: ContactKey,
        before: ChannelSubscription | None,
        after: ChannelSubscription,
        cause: Update,
    ) -> None:
        """Record the group states of `email` that a channel update changed."""
        directory = self.directory(email.directory_id)
        for name in directory.groups if directory is not None else ():
            key = group_subscription_id(email, name)
            group = self.group(key)
            event = rejudge_group(group, email, before, after, cause, recorded_at=self.now)
            if event is not None:
                self.states[key] = evolve_group(group, event)
                self.events.append(event)

    def group_change(self, change: GroupChange) -> None:
        key = change.subscription_id
        group = self.group(key)
        channel = self.channel(change.email.subscription_id)
        event = decide_group_update(
            group, change.email, change.group, change.update, channel, recorded_at=self.now
        )
        self.states[key] = evolve_group(group, event)
        self.events.append(event)
        where = change.email.directory_id
        directory = self.directory(where)
        listing = decide_listing(directory, change.email, change.group, recorded_at=self.now)
        if listing is not None:
            self.states[where] = evolve_directory(directory, listing)
            self.listings.append(listing)
