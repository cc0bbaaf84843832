"""Saving a decision in one `save()`, deciding again when another writer got in first.

Decisions are pure functions of the states they were made against, so on an
optimistic-concurrency conflict (another writer appended to one of these aggregates between
our read and our save) reloading and deciding again is always safe. "Full jitter" backoff keeps
two writers of the same aggregates from colliding in lockstep.

How often that happens is counted (`save_retries()`), process-wide: the rate of conflicts is
what tells whether more writers on one store still add throughput or only retry each other
(the service's /metrics shows it; benchmarks divide it by their saves).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs
from eventsourcing.persistence import IntegrityError

from engage_core.events import DomainEvent


class ConcurrentWriteError(RuntimeError):
    """Other writers kept changing the same aggregates through every retry."""


@attrs.frozen
class PendingEvents:
    """A batch of new events handed to `Application.save()` as one object.

    `save()` checks every object it is given against runtime-checkable Protocols, which costs
    ~15 µs per object on Python 3.11; handing it one object that collects all the events keeps
    that cost per batch instead of per event.
    """

    id: UUID
    events: Sequence[DomainEvent]
    version: int = 0  # the aggregate protocol asks for one; a batch spans many aggregates

    def collect_events(self) -> Sequence[DomainEvent]:
        return self.events


_Event = TypeVar("_Event", bound=DomainEvent)
Decide = Callable[[datetime], tuple[list[_Event], Callable[[], None]]]

_retries = 0
_retries_lock = threading.Lock()  # taken only on a conflict, which sleeps anyway


def save_retries() -> int:
    """How many save attempts in this process were refused by a conflicting write and decided
    again, since it started (every application in the process counted together)."""
    return _retries


def _count_retry() -> None:
    global _retries
    with _retries_lock:  # `+=` on a global is not atomic across threads
        _retries += 1


def save_retrying(
    save: Callable[[PendingEvents], Any],
    decide: Decide[_Event],
    *,
    clock: Callable[[], datetime],
    within: float,
) -> list[_Event]:
    """Decide at `clock()` and save in one `save()`; on a conflict decide again, for at most
    `within` seconds. `decide` returns the events and what to do once they are saved."""
    deadline = time.monotonic() + within
    attempt = 0
    while True:
        events, on_saved = decide(clock())
        if not events:
            return events
        try:
            save(PendingEvents(id=events[0].originator_id, events=events))
        except IntegrityError:
            attempt += 1
            if time.monotonic() >= deadline:
                raise ConcurrentWriteError(
                    f"gave up after {attempt} attempts in {within:.0f} s: "
                    "other writers kept changing the same aggregates"
                ) from None
            _count_retry()
            time.sleep(random.uniform(0, min(0.5, 0.002 * 2**attempt)))
            continue
        on_saved()
        return events
