"""eventsourcing's SQLite application recorder, with the two batch operations Engage's hot path
needs: read the events of many aggregates in one query, and insert a batch with `executemany`.

The stock recorder reads one aggregate per query (a pooled connection and transaction each,
~40 µs) and inserts row by row to learn each `lastrowid`. Inside one write transaction SQLite
gives consecutive rowids to consecutive inserts (the next rowid is the largest in use plus one,
and no other writer can interleave), so the notification ids of a batch are the `n` ids ending at
`last_insert_rowid()`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

# SQLite's default limit on host parameters is 999 on old builds; stay well under it.
_IDS_PER_QUERY = 500


class BatchingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """`SQLiteApplicationRecorder` plus `select_events_of_many`, and batched inserts."""

    def select_events_of_many(
        self, originator_ids: Iterable[UUID]
    ) -> dict[UUID, list[StoredEvent]]:
        """Every stored event of each given aggregate, in version order; absent ids are absent."""
        wanted = [originator_id.hex for originator_id in originator_ids]
        found: dict[UUID, list[StoredEvent]] = defaultdict(list)
        with self.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(wanted), _IDS_PER_QUERY):
                chunk = wanted[start : start + _IDS_PER_QUERY]
                cursor.execute(
                    f"SELECT * FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY originator_id, originator_version",
                    chunk,
                )
                for row in cursor.fetchall():
                    originator_id = UUID(row["originator_id"])
                    found[originator_id].append(
                        StoredEvent(
                            originator_id=originator_id,
                            originator_version=row["originator_version"],
                            topic=row["topic"],
                            state=row["state"],
                        )
                    )
        return dict(found)

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
