"""Finding held requests: every entry's id, read from the log by topic, oldest first.

Held entries are aggregates found by a deterministic id from the request; listing them needs
the recorder's notifications (the application log), paged so a long quarantine is never read
into memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from engage_core.quarantine.events import RequestQuarantined

PAGE = 500


def held_ids(recorder: Any) -> Iterator[UUID]:
    """The id of every entry ever held, oldest first (none without an application log)."""
    if not isinstance(recorder, ApplicationRecorder):
        return
    start: int | None = None
    while True:
        page = recorder.select_notifications(
            start, PAGE, topics=[RequestQuarantined.TOPIC], inclusive_of_start=False
        )
        for notification in page:
            found = notification.originator_id
            yield found if isinstance(found, UUID) else UUID(found)
        if len(page) < PAGE:
            return
        start = page[-1].id
