"""The ports the core relies on, beyond eventsourcing's own: optional store capabilities.

The core never imports a store; a recorder that has one of these capabilities is used through
it, and without it the core falls back to eventsourcing's generic interface.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import StoredEvent


@runtime_checkable
class ReadsManyAggregates(Protocol):
    """An optional recorder capability: the events of many aggregates in one query.

    `since` maps each wanted aggregate to the version already known (0 for none); only later
    events come back. `adapters.stores` installs recorders that have it; without it, each
    aggregate of a batch is read with its own query.
    """

    def select_events_of_many(
        self, since: Mapping[UUID, int]
    ) -> Mapping[UUID, Sequence[StoredEvent]]: ...


EventsOf = Callable[[UUID], Iterable[Any]]
"""A reader of one aggregate's domain events, oldest first: what the queries read through."""
