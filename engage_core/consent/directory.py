"""Which groups an email address has a subscription to: a small aggregate per address.

Group subscriptions are aggregates of their own, found by a deterministic id from (address,
group name); listing an address's groups would otherwise need a scan of the whole log. So the
first update ever recorded for an (address, group) also lists the group here, in the same
save. An address has a handful of groups, so the state is small and conflicts are rare.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import attrs

from engage_core.consent.contacts import ContactKey, SubscriptionChannel
from engage_core.events import DomainEvent
from engage_core.ids import name_of, uuid5


def directory_id(email: ContactKey) -> UUID:
    """The id of an address's group directory."""
    return uuid5(name_of("group-directory", email.key))


@attrs.frozen(kw_only=True)
class GroupListed(DomainEvent):
    """An address got its first update for a group (whatever that update's outcome)."""

    TOPIC: ClassVar[str] = "engage.consent.GroupListed"

    channel: SubscriptionChannel
    key: str
    group: str


@attrs.frozen
class GroupDirectory:
    id: UUID
    version: int
    groups: tuple[str, ...] = ()  # in the order first seen


def evolve_directory(state: GroupDirectory | None, event: GroupListed) -> GroupDirectory:
    groups = state.groups if state is not None else ()
    return GroupDirectory(event.originator_id, event.originator_version, (*groups, event.group))


def fold_directory(events: Iterable[GroupListed]) -> GroupDirectory | None:
    state: GroupDirectory | None = None
    for event in events:
        state = evolve_directory(state, event)
    return state


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
