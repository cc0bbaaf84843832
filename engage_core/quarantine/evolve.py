"""Fold quarantine events into a held entry: pure, the only place an entry changes.

The handler table is the table of contents: one function per event class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from engage_core.quarantine.events import (
    QuarantineEvent,
    RequestHeldAgain,
    RequestQuarantined,
    RequestRetried,
)
from engage_core.quarantine.state import HeldEntry


def _quarantined(entry: HeldEntry | None, event: RequestQuarantined) -> HeldEntry:
    return HeldEntry(
        event.originator_id, event.originator_version, event.request, event.refused,
        event.problems, times_held=1, retries=0, released=False,
        last_changed_at=event.recorded_at, unauthenticated=event.unauthenticated,
    )  # fmt: skip


def _held_again(entry: HeldEntry, event: RequestHeldAgain) -> HeldEntry:
    request = attrs.evolve(entry.request, headers=event.headers, received_at=event.received_at)
    if event.body is not None:  # the whole body, where only a prefix was kept before
        request = attrs.evolve(request, body=event.body)
    return attrs.evolve(
        entry, version=event.originator_version, request=request, refused=event.refused,
        problems=event.problems, times_held=entry.times_held + 1, released=False,
        last_changed_at=event.recorded_at, unauthenticated=event.unauthenticated,
    )  # fmt: skip


def _retried(entry: HeldEntry, event: RequestRetried) -> HeldEntry:
    return attrs.evolve(
        entry, version=event.originator_version, refused=event.refused,
        problems=event.problems, retries=entry.retries + 1, released=event.released,
        last_changed_at=event.recorded_at, unauthenticated=event.unauthenticated,
        last_retry_verified=event.verified,
    )  # fmt: skip


_HANDLERS: Mapping[type[Any], Callable[[Any, Any], HeldEntry]] = {
    RequestQuarantined: _quarantined,
    RequestHeldAgain: _held_again,
    RequestRetried: _retried,
}


def evolve_held(entry: HeldEntry | None, event: QuarantineEvent) -> HeldEntry:
    """One event onto a held entry (pure)."""
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise TypeError(f"not a quarantine event: {type(event).__name__}")
    if entry is None and handler is not _quarantined:
        raise ValueError(f"{type(event).__name__} before RequestQuarantined")
    return handler(entry, event)


def fold_held(
    events: Iterable[QuarantineEvent], entry: HeldEntry | None = None
) -> HeldEntry | None:
    """The entry after `events` (from `entry`, or from nothing)."""
    for event in events:
        entry = evolve_held(entry, event)
    return entry
