"""An in-process cache of recent aggregate states, kept honest by fast-forwarding.

Loading an aggregate folds all its events; a message that keeps receiving reports (engagement
on a popular email, a provider replaying its backlog) or a contact updated by every import
would make every batch that touches it read its whole log again. The cache remembers the state
each aggregate had after our last successful save, and a load reads only the events after that
version, so a state is never stale: what other writers appended since is read and folded in.
States are immutable, so sharing them is safe. Aggregate ids are uuid5 names of distinct kinds
(message, subscription, group, directory), so one cache serves them all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Protocol
from uuid import UUID


class Versioned(Protocol):
    """What the cache needs of a state: the version of the last event folded into it."""

    @property
    def version(self) -> int: ...


class StateCache:
    """Least-recently-used aggregate states, at most `size` of them (0 turns caching off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._states: OrderedDict[UUID, Versioned] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ids: Iterable[UUID]) -> dict[UUID, Versioned | None]:
        """The cached state of each id, or None; hits count as recent use."""
        with self._lock:
            found: dict[UUID, Versioned | None] = {}
            for aggregate_id in ids:
                state = self._states.get(aggregate_id)
                if state is not None:
                    self._states.move_to_end(aggregate_id)
                found[aggregate_id] = state
            return found

    def remember(self, states: Mapping[UUID, Versioned | None]) -> None:
        """Keep states that are saved (never ones merely decided: a save can still fail)."""
        if self.size <= 0:
            return
        with self._lock:
            for aggregate_id, state in states.items():
                if state is None:
                    continue
                self._states[aggregate_id] = state
                self._states.move_to_end(aggregate_id)
            while len(self._states) > self.size:
                self._states.popitem(last=False)

    def __len__(self) -> int:
        return len(self._states)
