"""What the store holds, measured cheaply enough to read on every /metrics scrape and /readyz.

- views lag: the log's last position minus each view's tracked position (two indexed reads);
- outbox lag: per destination cursor, the outbox events after it (an index range count);
- dead letters: parked letters per destination (`dead_letters_parked` index);
- quarantine: held requests not released. No view keeps it, and listing the quarantine folds
  every entry; so a tally here reads only the quarantine's notifications (by topic) after the
  last position it read, and remembers the ids still held: the first reading pages through
  the log once, each later one only what is new.

These run in worker threads (blocking SQLite reads); a lock keeps two scrapes from reading the
quarantine's new notifications twice.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from adapters.views import Views
from adapters.web.metrics import Reading
from engage_core import EngageApplication
from engage_core.quarantine.events import RequestHeldAgain, RequestQuarantined, RequestRetried

__all__ = ["QuarantineTally", "StoreGauges", "views_lag"]

_TOPICS = [RequestQuarantined.TOPIC, RequestHeldAgain.TOPIC, RequestRetried.TOPIC]
_PAGE = 500


def views_lag(app: EngageApplication, views: Views) -> tuple[int, dict[str, int]]:
    """(the log's last position, each view's distance behind it, in events)."""
    last = app.recorder.max_notification_id() or 0
    return last, {name: max(0, last - view.position()) for name, view in views.by_name.items()}


class QuarantineTally:
    """The entries held now, kept up with the log's quarantine notifications."""

    def __init__(self) -> None:
        self._position = 0
        self._held: set[UUID] = set()
        self._lock = threading.Lock()

    def count(self, app: EngageApplication) -> int:
        """How many entries are held and not released, after reading what is new."""
        recorder: Any = app.recorder
        with self._lock:
            while True:
                page = recorder.select_notifications(
                    self._position, _PAGE, topics=_TOPICS, inclusive_of_start=False
                )
                for notification in page:
                    self._apply(app, notification)
                if page:
                    self._position = page[-1].id
                if len(page) < _PAGE:
                    return len(self._held)

    def _apply(self, app: EngageApplication, notification: Any) -> None:
        found = notification.originator_id
        entry = found if isinstance(found, UUID) else UUID(str(found))
        if notification.topic != RequestRetried.TOPIC:
            self._held.add(entry)  # held, or held again
            return
        retried = app.mapper.to_domain_event(notification)
        if isinstance(retried, RequestRetried) and retried.released:
            self._held.discard(entry)
        else:
            self._held.add(entry)


class StoreGauges:
    """Reads a `Reading` from one application and its views."""

    def __init__(self) -> None:
        self._tally = QuarantineTally()

    def read(self, app: EngageApplication, views: Views) -> Reading:
        """The store now (the views' datastore holds the ledger's tables: `Ledger` made them)."""
        position, lag = views_lag(app, views)
        with views.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT c.name, (SELECT COUNT(*) FROM outbox o WHERE o.position > c.position) "
                "FROM destination_cursors c"
            )
            outbox = {str(name): int(pending) for name, pending in cursor.fetchall()}
            cursor.execute(
                "SELECT destination, COUNT(*) FROM dead_letters WHERE redriven_at IS NULL "
                "GROUP BY destination"
            )
            parked = {str(name): int(count) for name, count in cursor.fetchall()}
        parked = {name: parked.get(name, 0) for name in {*outbox, *parked}}
        return Reading(position, lag, outbox, parked, self._tally.count(app))
