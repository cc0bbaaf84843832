"""Where each destination stands: its cursor on the outbox and its dead letters, in the view
database beside the outbox (a SQLite file or PostgreSQL's views schema; `engage rebuild` leaves
these tables alone).

A cursor is the outbox position up to which every event was delivered or parked; it moves
only in the transaction that parks what failed, so a crash between sending and recording
means sending again (at least once), never skipping. It also keeps the build of the outbox
(`generation`) its position counts in, and the messageId and log position of the event it is
at (`anchor`, `anchor_source`): checked in the same transaction, so a cursor never moves by a
position of another build, and found again by its anchor after a rebuild. Dead letters keep
the events themselves (their outbox positions and Segment bodies), so a redrive sends exactly
what failed even if the outbox is rebuilt meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import orjson
from eventsourcing.sqlite import SQLiteDatastore

from adapters.views import OutboxEntry, OutboxView
from adapters.views.base import ViewRebuilt
from adapters.views.database import ViewCursor, ViewDatabase, open_view_database

SCHEMA = (
    # `anchor`: the messageId of the outbox event at `position` (null at 0), so a cursor can be
    # found again after the outbox was rebuilt by an Engage that numbers events differently
    "CREATE TABLE IF NOT EXISTS destination_cursors ("
    "name TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at TEXT NOT NULL, anchor TEXT, "
    "generation TEXT, anchor_source INTEGER)",
    "CREATE TABLE IF NOT EXISTS dead_letters ("
    "id INTEGER PRIMARY KEY, destination TEXT NOT NULL, source TEXT NOT NULL, "
    "first_position INTEGER NOT NULL, last_position INTEGER NOT NULL, events INTEGER NOT NULL, "
    "entries BLOB NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL, "
    "parked_at TEXT NOT NULL, last_attempt_at TEXT NOT NULL, redriven_at TEXT)",
    "CREATE INDEX IF NOT EXISTS dead_letters_parked ON dead_letters (destination, redriven_at)",
)


@attrs.frozen
class Cursor:
    """Where a destination stands: its outbox position, in which build of the outbox, and
    the event it is at (None at 0, or for a cursor from before anchors were kept)."""

    position: int
    anchor: str | None
    anchor_source: int | None
    generation: str | None


class CursorMoved(Exception):
    """Another process moved this destination's cursor while we were delivering: two
    deliverers on one destination. Ours stops; what it sent was at least once."""


@attrs.frozen
class Parked:
    """Events that could not be delivered, why, and after how many attempts."""

    entries: tuple[OutboxEntry, ...]
    reason: str
    attempts: int
    # the destination seemed down (retries ran out) rather than refusing these events
    transient: bool = attrs.field(default=False, eq=False)


@attrs.frozen
class DeadLetter:
    id: int
    destination: str
    source: str  # "deliver", "replay" or "redrive"
    entries: tuple[OutboxEntry, ...]
    reason: str
    attempts: int
    parked_at: str
    last_attempt_at: str
    redriven_at: str | None

    def summary(self) -> dict[str, Any]:
        """The JSON `engage dead-letters list` prints: the events' positions and messageIds,
        not their bodies (which may carry personal data)."""
        return {
            "id": self.id,
            "destination": self.destination,
            "source": self.source,
            "events": len(self.entries),
            "first_position": self.entries[0].position if self.entries else None,
            "last_position": self.entries[-1].position if self.entries else None,
            "message_ids": [e.message_id for e in self.entries],
            "reason": self.reason,
            "attempts": self.attempts,
            "parked_at": self.parked_at,
            "last_attempt_at": self.last_attempt_at,
            "redriven_at": self.redriven_at,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _pack(entries: Sequence[OutboxEntry]) -> bytes:
    return orjson.dumps([[e.position, e.body] for e in entries])


def _unpack(blob: bytes) -> tuple[OutboxEntry, ...]:
    return tuple(
        OutboxEntry(position, body["messageId"], body["event"], body)
        for position, body in orjson.loads(blob)
    )


class Ledger:
    """Cursors and dead letters of every destination of one views datastore."""

    def __init__(self, datastore: ViewDatabase | SQLiteDatastore) -> None:
        self.datastore = open_view_database(datastore)
        self.datastore.create(SCHEMA)
        with self.datastore.transaction(commit=True) as cursor:
            _write_lock(cursor)  # the schema may change below: hold the lock from the start
            columns = self.datastore.columns(cursor, "destination_cursors")
            for column, kind in (
                ("anchor", "TEXT"), ("generation", "TEXT"), ("anchor_source", "INTEGER")
            ):  # fmt: skip
                if column not in columns:  # a file from before
                    cursor.execute(
                        self.datastore.ddl(
                            f"ALTER TABLE destination_cursors ADD COLUMN {column} {kind}"
                        )
                    )

    def at(self, name: str) -> Cursor | None:
        """The destination's cursor, or None for a destination never delivered to."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT position, anchor, anchor_source, generation FROM destination_cursors "
                "WHERE name = ?",
                (name,),
            )
            row = cursor.fetchone()
        return None if row is None else Cursor(int(row[0]), row[1], row[2], row[3])

    def anchor(self, name: str) -> str | None:
        """The messageId of the event the destination's cursor is at (None at 0)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT anchor FROM destination_cursors WHERE name = ?", (name,))
            row = cursor.fetchone()
        return None if row is None else row[0]

    def relocate(
        self, name: str, expected: int, position: int, outbox: OutboxView, generation: str
    ) -> None:
        """Move the cursor to `position` of the outbox's build `generation` (where its anchor
        is after a rebuild renumbered the outbox); `CursorMoved` if another process moved it
        first, `ViewRebuilt` if the outbox was rebuilt again meanwhile."""
        with self.datastore.transaction(commit=True) as cursor:
            self._move(cursor, name, expected, position, outbox, generation)

    def _move(
        self,
        cursor: ViewCursor,
        name: str,
        expected: int,
        position: int,
        outbox: OutboxView,
        generation: str,
    ) -> None:
        _write_lock(cursor, outbox)
        located = outbox.locate(cursor, position)
        if located.generation != generation:
            raise ViewRebuilt(f"destination {name!r}: the outbox was rebuilt while delivering")
        cursor.execute(
            "UPDATE destination_cursors SET position = ?, updated_at = ?, anchor = ?, "
            "anchor_source = ?, generation = ? WHERE name = ? AND position = ?",
            (position, _now(), located.message_id, located.source, generation, name, expected),
        )
        if _rowcount(cursor) != 1:
            raise CursorMoved(
                f"destination {name!r}: its cursor moved from {expected} while delivering "
                "(is another `engage deliver` running?)"
            )

    def cursor(self, name: str) -> int | None:
        """The destination's position, or None for a destination never delivered to."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT position FROM destination_cursors WHERE name = ?", (name,))
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def start(self, name: str, position: int, outbox: OutboxView, generation: str) -> int:
        """Set a new destination's cursor (kept if another process set it first)."""
        with self.datastore.transaction(commit=True) as cursor:
            _write_lock(cursor, outbox)
            located = outbox.locate(cursor, position)
            if located.generation != generation:
                raise ViewRebuilt(f"destination {name!r}: the outbox was rebuilt meanwhile")
            cursor.execute(
                "INSERT INTO destination_cursors "
                "(name, position, updated_at, anchor, anchor_source, generation) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                (name, position, _now(), located.message_id, located.source, generation),
            )
            cursor.execute("SELECT position FROM destination_cursors WHERE name = ?", (name,))
            return int(cursor.fetchone()[0])

    def advance(
        self,
        name: str,
        expected: int,
        position: int,
        parked: Sequence[Parked],
        outbox: OutboxView,
        generation: str,
    ) -> None:
        """Park `parked` and move the cursor from `expected` to `position` of the outbox's
        build `generation`, in one transaction; `CursorMoved` (and nothing recorded) if the
        cursor is no longer `expected`, `ViewRebuilt` if the outbox is another build now."""
        with self.datastore.transaction(commit=True) as cursor:
            self._move(cursor, name, expected, position, outbox, generation)
            for item in parked:
                self._park(cursor, name, "deliver", item)

    def park(self, name: str, source: str, parked: Sequence[Parked]) -> list[int]:
        """Park events outside the live cursor's path (replay); returns the new ids."""
        with self.datastore.transaction(commit=True) as cursor:
            return [self._park(cursor, name, source, item) for item in parked]

    @staticmethod
    def _park(cursor: ViewCursor, name: str, source: str, item: Parked) -> int:
        now = _now()
        cursor.execute(
            "INSERT INTO dead_letters (destination, source, first_position, last_position, "
            "events, entries, reason, attempts, parked_at, last_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                name, source, item.entries[0].position, item.entries[-1].position,
                len(item.entries), _pack(item.entries), item.reason, item.attempts, now, now,
            ),
        )  # fmt: skip
        return int(cursor.fetchone()[0])

    def dead_letters(
        self,
        destination: str | None = None,
        *,
        ids: Sequence[int] = (),
        include_redriven: bool = False,
    ) -> list[DeadLetter]:
        """Dead letters, oldest first: parked ones only unless `include_redriven`."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if destination is not None:
            where.append("destination = ?")
            params.append(destination)
        if not include_redriven:
            where.append("redriven_at IS NULL")
        if ids:
            where.append(f"id IN ({', '.join('?' for _ in ids)})")
            params.extend(ids)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT id, destination, source, entries, reason, attempts, parked_at, "
                f"last_attempt_at, redriven_at FROM dead_letters WHERE {' AND '.join(where)} "
                "ORDER BY id",
                params,
            )
            rows = cursor.fetchall()
        return [
            DeadLetter(r[0], r[1], r[2], _unpack(r[3]), r[4], r[5], r[6], r[7], r[8]) for r in rows
        ]

    def settle(self, letter: DeadLetter, still_parked: Sequence[Parked]) -> bool:
        """Record a redrive of `letter`: redriven when nothing is `still_parked`; otherwise the
        letter keeps the first part that failed (attempts added up, the new reason) and any
        further failed parts become letters of their own. What was delivered leaves it. One
        transaction; False when another redrive settled the letter first."""
        now = _now()
        with self.datastore.transaction(commit=True) as cursor:
            if not still_parked:
                cursor.execute(
                    "UPDATE dead_letters SET redriven_at = ?, last_attempt_at = ? "
                    "WHERE id = ? AND redriven_at IS NULL",
                    (now, now, letter.id),
                )
                return _rowcount(cursor) == 1
            first, *others = still_parked
            cursor.execute(
                "UPDATE dead_letters SET first_position = ?, last_position = ?, events = ?, "
                "entries = ?, reason = ?, attempts = attempts + ?, last_attempt_at = ? "
                "WHERE id = ? AND redriven_at IS NULL",
                (
                    first.entries[0].position, first.entries[-1].position, len(first.entries),
                    _pack(first.entries), first.reason, first.attempts, now, letter.id,
                ),
            )  # fmt: skip
            if _rowcount(cursor) != 1:
                return False
            for item in others:
                total = attrs.evolve(item, attempts=item.attempts + letter.attempts)
                self._park(cursor, letter.destination, "redrive", total)
            return True


def _write_lock(cursor: ViewCursor, outbox: OutboxView | None = None) -> None:
    """Take the write lock before anything is read in this transaction: the outbox's when a
    cursor moves by what the outbox holds, so the two change one at a time (and on SQLite a
    transaction that reads, then writes after another process committed, is refused at once
    instead of waiting its turn)."""
    cursor.lock(outbox.tracking_name if outbox is not None else "destination ledger")


def _rowcount(cursor: ViewCursor) -> int:
    return cursor.rowcount
