"""An in-process cache of recent message states, kept honest by fast-forwarding.

Loading a message folds all its events; a message that keeps receiving reports (engagement on
a popular email, a provider replaying its backlog) would make every batch that touches it read
its whole log again. The cache remembers the state each message had after our last successful
save, and a load reads only the events after that version, so a state is never stale: what other
writers appended since is read and folded in. States are immutable, so sharing them is safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from uuid import UUID

from engage_core.message.state import MessageState


class StateCache:
    """Least-recently-used message states, at most `size` of them (0 turns caching off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._states: OrderedDict[UUID, MessageState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ids: Iterable[UUID]) -> dict[UUID, MessageState | None]:
        """The cached state of each id, or None; hits count as recent use."""
        with self._lock:
            found: dict[UUID, MessageState | None] = {}
            for message_id in ids:
                state = self._states.get(message_id)
                if state is not None:
                    self._states.move_to_end(message_id)
                found[message_id] = state
            return found

    def remember(self, states: Mapping[UUID, MessageState | None]) -> None:
        """Keep states that are saved (never ones merely decided: a save can still fail)."""
        if self.size <= 0:
            return
        with self._lock:
            for message_id, state in states.items():
                if state is None:
                    continue
                self._states[message_id] = state
                self._states.move_to_end(message_id)
            while len(self._states) > self.size:
                self._states.popitem(last=False)

    def __len__(self) -> int:
        return len(self._states)
