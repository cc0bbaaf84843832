"""The quarantine commands and queries of the Engage application.

A mixin of `EngageApplication`, like the consent commands: holding a request is saved in the
same transaction as whatever of it was applied, and a retry saves what it applied together
with the record of the retry, so a held entry never says "released" about inputs that did not
land (or the other way round).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, EventStore

from engage_core.message.result import ObserveResult
from engage_core.observations import Observation, Send
from engage_core.quarantine import (
    HeldEntry,
    Hold,
    QuarantineEvent,
    RequestQuarantined,
    decide_hold,
    decide_retry,
    fold_held,
)

_PAGE = 500


class QuarantineCommands:
    """Hold requests that were not applied; list them; run them again."""

    events: EventStore[UUID]  # the application's event store
    recorder: Any  # the application's recorder (an ApplicationRecorder for listing)

    def _decide_and_save(
        self,
        inputs: Sequence[Observation | Send],
        *,
        also: Callable[[datetime], list[QuarantineEvent]] | None = None,
    ) -> list[Any]:
        raise NotImplementedError  # EngageApplication decides and saves in one save()

    def hold(self, hold: Hold) -> HeldEntry:
        """Keep a request none of which was applied (refused, or nothing in it mapped)."""
        self._decide_and_save([], also=lambda now: [self._decide_hold(hold, now)])
        entry = self.held_entry(hold.request.quarantine_id)
        assert entry is not None
        return entry

    def retry_held(
        self,
        entry_id: UUID,
        inputs: Sequence[Observation | Send],
        outcome: Hold,
        *,
        verified: bool,
        count_sends: bool = True,
    ) -> ObserveResult:
        """Apply what a held request maps to now, and record the retry (released when no
        problem is left), in one save(); counts as `observe` does."""

        def retried(now: datetime) -> list[QuarantineEvent]:
            entry = self.held_entry(entry_id)
            if entry is None:
                raise LookupError(f"no held request {entry_id}")
            return [decide_retry(entry, outcome, verified=verified, recorded_at=now)]

        events = self._decide_and_save(inputs, also=retried)
        return ObserveResult.of_inputs(inputs, events, count_sends=count_sends)

    def held_entry(self, entry_id: UUID) -> HeldEntry | None:
        """One held request, or None."""
        events: Iterable[Any] = self.events.get(entry_id)
        return fold_held(events)

    def held(self, *, include_released: bool = False) -> Iterator[HeldEntry]:
        """Held requests, oldest first (released ones too when asked)."""
        for entry_id in self._held_ids():
            entry = self.held_entry(entry_id)
            if entry is not None and (include_released or not entry.released):
                yield entry

    def _held_ids(self) -> Iterator[UUID]:
        recorder = self.recorder
        if not isinstance(recorder, ApplicationRecorder):
            return
        start: int | None = None
        while True:
            page = recorder.select_notifications(
                start, _PAGE, topics=[RequestQuarantined.TOPIC], inclusive_of_start=False
            )
            for notification in page:
                found = notification.originator_id
                yield found if isinstance(found, UUID) else UUID(found)
            if len(page) < _PAGE:
                return
            start = page[-1].id

    def _decide_hold(self, hold: Hold, now: datetime) -> QuarantineEvent:
        return decide_hold(self.held_entry(hold.request.quarantine_id), hold, recorded_at=now)
