"""The history of a message, derived from its events: what happened, in arrival order, with
each line's kind (applied, inferred, late, conflict, duplicate)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from engage_core.message.events import (
    DuplicateIgnored,
    MessageEvent,
    Observed,
    Outcome,
    SendRecorded,
)
from engage_core.message.state import HistoryEntry


def _send_recorded(event: SendRecorded) -> tuple[HistoryEntry, ...]:
    return (
        HistoryEntry(
            kind=event.outcome.value,
            status="processed",
            recorded_at=event.recorded_at,
            occurred_at=event.send.sent_at,
        ),
    )


def _observed(event: Observed) -> tuple[HistoryEntry, ...]:
    inferred = tuple(
        HistoryEntry(kind="inferred", status=status, recorded_at=event.recorded_at)
        for status in event.inferred
    )
    return (
        *inferred,
        HistoryEntry(
            kind=event.outcome.value,
            status=event.status,
            recorded_at=event.recorded_at,
            occurred_at=event.occurred_at,
            event_id=event.event_id,
            details=event.details,
            facts=event.facts,
            claimed_at=event.claimed_at,
        ),
    )


def _duplicate_ignored(event: DuplicateIgnored) -> tuple[HistoryEntry, ...]:
    return (
        HistoryEntry(
            kind=Outcome.DUPLICATE.value,
            status=event.status,
            recorded_at=event.recorded_at,
            occurred_at=event.occurred_at,
        ),
    )


_ENTRIES: dict[type[MessageEvent], Callable[[Any], tuple[HistoryEntry, ...]]] = {
    SendRecorded: _send_recorded,
    Observed: _observed,
    DuplicateIgnored: _duplicate_ignored,
}


def history_entries(event: MessageEvent) -> tuple[HistoryEntry, ...]:
    """The lines one event adds to a message's history: inferred statuses first, then the
    report itself."""
    entries = _ENTRIES.get(type(event))
    if entries is None:
        raise TypeError(f"not a message event: {type(event).__name__}")
    return entries(event)


def history(events: Iterable[MessageEvent]) -> tuple[HistoryEntry, ...]:
    """The whole history of a message from its events, oldest first."""
    return tuple(entry for event in events for entry in history_entries(event))
