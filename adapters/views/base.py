"""A view: SQL tables kept from the event log, with eventsourcing tracking written in the same
transaction as the rows (so each event is applied exactly once, and a crash between the two is
impossible), rebuildable from position 0 and digestible row for row.

All views live in one SQLite file next to the event store (`engage.db` → `engage.views.db`),
one `tracking` row per view (eventsourcing's single-row tracking, keyed by
`<application>:<view>`).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder


class SQLiteView(SQLiteTrackingRecorder):
    """One view. Subclasses declare their tables (`schema`: name → CREATE TABLE statement, the
    primary key first so digests are ordered) and apply events in `_apply`."""

    name: ClassVar[str]
    schema: ClassVar[dict[str, str]]
    # each table's columns in digest order (its ORDER BY), from `schema`'s primary keys
    order_by: ClassVar[dict[str, str]]

    def __init__(self, datastore: SQLiteDatastore, *, upstream: str = "Engage") -> None:
        super().__init__(datastore)
        self.upstream = upstream
        self._last_committed: int | None = None  # the position this instance last committed
        self._create_tables()

    def _create_tables(self, attempts: int = 50) -> None:
        """Create the tables, when other processes may be creating the same file: a new file's
        switch to WAL takes a lock SQLite does not wait for, and eventsourcing's first tracking
        row can lose a race to another process's; both settle within moments, and creating
        tables that exist is a no-op."""
        for attempt in range(attempts):
            try:
                self.create_table()
                return
            except (IntegrityError, OperationalError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 + random.random() * 0.1)

    @property
    def tracking_name(self) -> str:
        return f"{self.upstream}:{self.name}"

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.schema.values()]

    def position(self) -> int:
        """The last log position applied (0: none)."""
        return self.max_tracking_id(self.tracking_name) or 0

    def process(self, events: Sequence[tuple[int, Any]]) -> None:
        """Apply `(position, domain event)` pairs, in log order, and record the last position,
        in one transaction. Positions at or before the tracked one are skipped (exactly once)."""
        if not events:
            return
        with self.datastore.transaction(commit=True) as cursor:
            # take the write lock before reading the position: another process catching up
            # the same view waits here and then skips what this one applied (a read first
            # would leave it a stale snapshot it could not write from)
            cursor.execute("UPDATE tracking SET notification_id = notification_id WHERE 0")
            done = self._max_tracking_id(self.tracking_name, cursor) or 0
            if done != self._last_committed:
                # another process moved (or dropped) this view since this instance's last
                # page: whatever it remembers between pages may be stale
                self._forget()
            for position, event in events:
                if position > done:
                    self._apply(cursor, position, event)
            self._flush(cursor)
            last = events[-1][0]
            if last > done:
                self._insert_tracking(cursor, Tracking(self.tracking_name, last))
        self._last_committed = max(last, done)
        self._committed()

    def _forget(self) -> None:
        """Drop whatever the view remembers between pages (it is read again from the tables)."""

    def _flush(self, cursor: SQLiteCursor) -> None:
        """Write what `_apply` gathered for the page (a view may batch its inserts)."""

    def _committed(self) -> None:
        """The page's transaction committed (a view may now trust what it cached)."""

    def _apply(self, cursor: SQLiteCursor, position: int, event: Any) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        """Empty the view and forget its tracking: the next catch-up rebuilds from 0."""
        with self.datastore.transaction(commit=True) as cursor:
            for table in self.schema:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute("DELETE FROM tracking WHERE application_name = ?",
                           (self.tracking_name,))  # fmt: skip
            for statement in self.schema.values():
                cursor.execute(statement)
            self._dropped(cursor)
        self._last_committed = None

    def _dropped(self, cursor: SQLiteCursor) -> None:
        """In the dropping transaction: what a view records about being rebuilt."""

    def digest(self) -> tuple[int, str]:
        """(rows, SHA-256 over every row of every table in primary-key order): equal digests
        mean equal views, row for row."""
        digest = hashlib.sha256()
        rows = 0
        with self.datastore.transaction(commit=False) as cursor:
            for table in self.schema:
                digest.update(f"\x1e{table}\x1e".encode())
                cursor.execute(f"SELECT * FROM {table} ORDER BY {self.order_by[table]}")
                while page := cursor.sqlite_cursor.fetchmany(1000):  # bounded, whatever the size
                    for row in page:
                        rows += 1
                        digest.update(repr(tuple(row)).encode())
        return rows, digest.hexdigest()
