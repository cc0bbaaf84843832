"""eventsourcing's SQLite application recorder, with the two batch operations Engage's hot path
needs: read the events of many aggregates in one query, and insert a batch with `executemany`.

The stock recorder reads one aggregate per query (a pooled connection and transaction each,
~40 µs) and inserts row by row to learn each `lastrowid`. Inside one write transaction SQLite
gives consecutive rowids to consecutive inserts (the next rowid is the largest in use plus one,
and no other writer can interleave), so the notification ids of a batch are the `n` ids ending at
`last_insert_rowid()`.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from engage_core.event_store import stored_event

# Two parameters per message; SQLite before 3.32 allows 999 per statement: stay under it.
_IDS_PER_QUERY = 400


class BatchingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """`SQLiteApplicationRecorder` plus `select_events_of_many`, and batched inserts."""

    _json_each = True  # until this SQLite is found without it

    def select_events_of_many(self, since: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of each given aggregate after the version given for it (0: all),
        in version order; aggregates with none are absent."""
        found: dict[UUID, list[StoredEvent]] = defaultdict(list)
        with self.datastore.transaction(commit=False) as cursor:
            for row in self._rows_after(cursor, since):
                originator_id = UUID(row[0])
                found[originator_id].append(stored_event(originator_id, row[1], row[2], row[3]))
        return dict(found)

    def _rows_after(self, cursor: SQLiteCursor, since: Mapping[UUID, int]) -> list[Any]:
        """The rows `select_events_of_many` wants. eventsourcing's connections keep one
        prepared statement, so a statement of the batch's size (a `VALUES` row per aggregate)
        was compiled again for every batch, and compiling it cost twice what running it did:
        the batch goes as one JSON object of id to version instead, read by `json_each`, in a
        statement that never changes. A SQLite built without its JSON functions gets the
        `VALUES` form."""
        table = self.events_table_name
        if self._json_each:
            try:
                cursor.execute(
                    "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                    f"FROM json_each(?) AS wanted JOIN {table} AS e "
                    "ON e.originator_id = wanted.key AND e.originator_version > wanted.value "
                    "ORDER BY e.originator_id, e.originator_version",
                    (orjson.dumps({key.hex: after for key, after in since.items()}),),
                )
                rows: list[Any] = cursor.fetchall()
                return rows
            except sqlite3.OperationalError as error:
                if "json_each" not in str(error):
                    raise
                self._json_each = False  # this SQLite has no JSON functions
        wanted = [(originator_id.hex, version) for originator_id, version in since.items()]
        rows = []
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            chunk = wanted[start : start + _IDS_PER_QUERY]
            cursor.execute(
                "WITH wanted(id, since) AS "
                f"(VALUES {', '.join(['(?, ?)'] * len(chunk))}) "
                "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                f"FROM wanted JOIN {table} AS e "
                "ON e.originator_id = wanted.id AND e.originator_version > wanted.since "
                "ORDER BY e.originator_id, e.originator_version",
                [value for pair in chunk for value in pair],
            )
            rows += cursor.fetchall()
        return rows

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        c.executemany(
            self.insert_events_statement,
            [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in stored_events
            ],
        )
        c.execute("SELECT last_insert_rowid()")
        (last,) = c.fetchone()
        first = last - len(stored_events) + 1
        return list(range(first, last + 1))
