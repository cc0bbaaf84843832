"""A view: SQL tables kept from the event log, with eventsourcing tracking written in the same
transaction as the rows (so each event is applied exactly once, and a crash between the two is
impossible), rebuildable from position 0 and digestible row for row.

A view's tables live in a view database (`adapters.views.database`): a SQLite file next to a
SQLite store (`engage.db` → `engage.views.db`), or the views schema of a PostgreSQL store. Each
view has one `tracking` row (eventsourcing's single-row tracking, keyed by
`<application>:<view>`) and one `view_generations` row: which build of the view this is (a new
value on every drop) and how many log events that build has applied.

Several processes may keep the same views at once (followers, one-shot commands, a rebuild).
Two rules make any interleaving safe, checked under the view's write lock:
- a page is applied only if it starts at or before the view's tracked position (`after`): a
  page that would leave a gap is refused (`ViewGap`) and its caller reads the position again;
- a page read for one build of the view is never applied to another (`ViewRebuilt`): a rebuild
  fences out every catch-up that started before it.
So the view's rows are always the fold of one unbroken prefix of the log, and a rebuild can
prove it saw the whole log: the events its build applied equal the events the log holds up to
its position (`verify`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
from eventsourcing.sqlite import SQLiteDatastore

from adapters.views.database import ViewCursor, ViewDatabase, open_view_database
from adapters.views.records import Record, records_of

__all__ = [
    "GENERATIONS",
    "Build",
    "RebuildIncomplete",
    "SQLiteView",
    "View",
    "ViewGap",
    "ViewRebuilt",
    "process_together",
]


GENERATIONS = (
    "CREATE TABLE IF NOT EXISTS view_generations ("
    "view TEXT PRIMARY KEY, generation TEXT NOT NULL, applied INTEGER) WITHOUT ROWID"
)


class ViewGap(Exception):
    """A page starts after the view's tracked position: applying it would skip events. Read
    the position again and page from there."""


class ViewRebuilt(Exception):
    """The view was dropped (rebuilt) since the page was read for it: read its new build's
    position and page from there."""


class RebuildIncomplete(Exception):
    """A rebuilt view did not apply every event of the log up to its position."""


@attrs.frozen
class Build:
    """Which build of a view a process works on, and the log position it has reached."""

    generation: str
    position: int
    applied: int | None = None  # log events this build applied (None: not counted)


class View:
    """One view. Subclasses declare their tables (`schema`: name → CREATE TABLE statement in
    SQLite's words, the primary key first so digests are ordered) and apply events in
    `_apply`; the same code keeps its tables in SQLite or PostgreSQL.

    `_apply` (and `_prepare`) receive the typed domain events (`Observed`, ...), structured
    once per stored event and shared by every view of the page. A view that sets
    `reads_records` receives each event's `Record` instead (its stored JSON, upcast, read
    field by field): cheaper, but the view must read the stored form, so the built-in views
    opt in and a subclass gets typed events unless it does too."""

    reads_records: ClassVar[bool] = False  # True: `_apply` receives `Record`s, not events

    name: ClassVar[str]
    schema: ClassVar[dict[str, str]]
    # each table's columns in digest order (its ORDER BY), from `schema`'s primary keys
    order_by: ClassVar[dict[str, str]]

    def __init__(
        self, datastore: ViewDatabase | SQLiteDatastore | str, *, upstream: str = "Engage"
    ) -> None:
        """`datastore`: the view database (a SQLite datastore or location is opened as one)."""
        self.datastore = open_view_database(datastore)
        self.upstream = upstream
        # the (build, position) this instance last committed or saw
        self._last_committed: tuple[str, int] | None = None
        self.datastore.create([GENERATIONS, *self.schema.values()])
        self._ensure_generation()

    @property
    def tracking_name(self) -> str:
        return f"{self.upstream}:{self.name}"

    def position(self) -> int:
        """The last log position applied (0: none)."""
        with self.datastore.transaction(commit=False) as cursor:
            return int(cursor.position(self.tracking_name))

    def build(self) -> Build:
        """The view's current build and position, read together: in one statement, since a
        PostgreSQL statement reads what is committed when it starts, and a page committed
        between two reads would pair one build's count with a later position."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT generation, applied, (SELECT MAX(notification_id) FROM tracking "
                "WHERE application_name = ?) FROM view_generations WHERE view = ?",
                (self.tracking_name, self.tracking_name),
            )
            row = cursor.fetchone()
        if row is not None:
            applied = None if row[1] is None else int(row[1])
            return Build(str(row[0]), int(row[2] or 0), applied)
        with self.datastore.transaction(commit=True) as cursor:  # no build row: make it
            cursor.lock(self.tracking_name)  # as `_generation` needs, before reading
            generation, applied = self._generation(cursor)
            return Build(generation, cursor.position(self.tracking_name), applied)

    def generation(self) -> str:
        """Which build of the view this is: a new value every time it is dropped."""
        return self.build().generation

    def _ensure_generation(self) -> None:
        """Give the view its build row if it has none (a new database, or one from before
        builds were counted). One statement, a write from its start: a transaction that read
        first and wrote second could find another process had committed in between, which
        SQLite refuses at once ("database is locked") rather than waiting."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "INSERT INTO view_generations (view, generation, applied) "
                "SELECT ?, ?, CASE WHEN EXISTS (SELECT 1 FROM tracking WHERE application_name "
                "= ? AND notification_id > 0) THEN NULL ELSE 0 END "
                "WHERE NOT EXISTS (SELECT 1 FROM view_generations WHERE view = ?) "
                "ON CONFLICT (view) DO NOTHING",
                (self.tracking_name, uuid.uuid4().hex, self.tracking_name, self.tracking_name),
            )

    def _generation(self, cursor: ViewCursor) -> tuple[str, int | None]:
        """(generation, events applied by it; None when unknown). The row is made when the
        view is opened (`_ensure_generation`); should it be missing, it is made here, which is
        safe only in a transaction that holds the view's write lock already."""
        cursor.execute(
            "SELECT generation, applied FROM view_generations WHERE view = ?",
            (self.tracking_name,),
        )
        row = cursor.fetchone()
        if row is not None:
            return str(row[0]), None if row[1] is None else int(row[1])
        # a view from before builds were counted (or never filled): what it applied is
        # known only when it has applied nothing yet
        done = cursor.position(self.tracking_name)
        applied = 0 if done == 0 else None
        generation = uuid.uuid4().hex
        cursor.execute(
            "INSERT INTO view_generations VALUES (?, ?, ?)",
            (self.tracking_name, generation, applied),
        )
        return generation, applied

    def process(
        self, events: Sequence[tuple[int, Any]], *, after: int, generation: str | None = None
    ) -> None:
        """Apply `(position, record)` pairs (or typed domain events, taken as the records the
        log would give), read from the log after position `after`, in log order, and record
        the last position, in one transaction. Positions at or before the tracked one are
        skipped (exactly once). `ViewGap` when `after` is beyond the tracked position;
        `ViewRebuilt` when `generation` is not the view's build now."""
        process_together([(self, generation)], events, after=after)

    def _apply_page(
        self, cursor: ViewCursor, events: Sequence[tuple[int, Record]], after: int,
        generation: str | None,
    ) -> tuple[tuple[str, int], bool]:  # fmt: skip
        """`process` inside a transaction: (the build and position it leaves, whether it
        applied anything)."""
        # take the write lock before reading the position: another process catching up
        # the same view waits here and then skips what this one applied (a read first
        # would leave it a stale snapshot it could not write from)
        cursor.lock(self.tracking_name)
        done = cursor.position(self.tracking_name)
        current, _ = self._generation(cursor)
        if generation is not None and generation != current:
            raise ViewRebuilt(f"view {self.name!r} was rebuilt since this page was read")
        if after > done:
            raise ViewGap(
                f"view {self.name!r} is at position {done}; a page after {after} would skip events"
            )
        if (current, done) != self._last_committed:
            # another process moved (or dropped) this view since this instance's last
            # page: whatever it remembers between pages may be stale
            self._forget()
        unseen = events if events and events[0][0] > done else [e for e in events if e[0] > done]
        fresh = len(unseen)
        if not fresh:
            return (current, done), False
        if self.reads_records:
            self._prepare(cursor, unseen)
            for position, record in unseen:
                try:
                    self._apply(cursor, position, record)
                except (AttributeError, KeyError, TypeError, ValueError):
                    # a view reads a record's JSON as it expects it; one that is not what
                    # its class stores is named as the mapper names it (`UnreadableEventError`)
                    record.event()
                    raise
        else:
            # the typed event, structured once per record and shared by every such view
            typed = [(position, record.event()) for position, record in unseen]
            self._prepare(cursor, typed)
            for position, event in typed:
                self._apply(cursor, position, event)
        self._flush(cursor)
        last = events[-1][0]
        cursor.record(self.tracking_name, last)
        cursor.execute(
            "UPDATE view_generations SET applied = applied + ? WHERE view = ?",
            (fresh, self.tracking_name),
        )
        return (current, last), True

    def _clear(self) -> None:
        """The page is over, committed or not: drop what was gathered for it."""

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Any]]) -> None:
        """Before a page's events are applied: read at once what they will need (one query a
        page rather than one an event: a round trip costs more on a server than in a file)."""

    def _forget(self) -> None:
        """Drop whatever the view remembers between pages (it is read again from the tables)."""

    def _flush(self, cursor: ViewCursor) -> None:
        """Write what `_apply` gathered for the page (a view may batch its inserts)."""

    def _committed(self) -> None:
        """The page's transaction committed (a view may now trust what it cached)."""

    def _apply(self, cursor: ViewCursor, position: int, event: Any) -> None:
        """Apply one event: a typed domain event, or its `Record` when `reads_records`."""
        raise NotImplementedError

    def drop(self) -> None:
        """Empty the view and forget its tracking: the next catch-up rebuilds from 0."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.lock(self.tracking_name)  # a page being applied finishes first
            for table in self.schema:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute("DELETE FROM tracking WHERE application_name = ?",
                           (self.tracking_name,))  # fmt: skip
            for statement in self.schema.values():
                cursor.execute(self.datastore.ddl(statement))
            cursor.execute(
                "INSERT INTO view_generations VALUES (?, ?, 0) ON CONFLICT (view) DO UPDATE "
                "SET generation = excluded.generation, applied = 0",
                (self.tracking_name, uuid.uuid4().hex),
            )
            self._dropped(cursor)
        self._last_committed = None

    def _dropped(self, cursor: ViewCursor) -> None:
        """In the dropping transaction: what a view records about being rebuilt."""

    def digest(self) -> tuple[int, str]:
        """(rows, SHA-256 over every row of every table in primary-key order): equal digests
        mean equal views, row for row."""
        digest = hashlib.sha256()
        rows = 0
        with self.datastore.transaction(commit=False) as cursor:
            for table in self.schema:
                digest.update(f"\x1e{table}\x1e".encode())
                query = f"SELECT * FROM {table} ORDER BY {self.order_by[table]}"
                for page in cursor.scan(query):  # a page at a time, whatever the size
                    for row in page:
                        rows += 1
                        digest.update(repr(tuple(row)).encode())
        return rows, digest.hexdigest()


SQLiteView = View  # the name views had when they lived in SQLite only


def process_together(
    views: Sequence[tuple[View, str | None]], events: Sequence[tuple[int, Any]], *, after: int
) -> None:
    """`View.process` of one page for several views of one database (each with the build it
    was read for), in one transaction: a SQLite file has one write lock and one commit (a
    disk flush) whatever the views, so a page costs one commit, not one per view. Any view's
    refusal (`ViewGap`, `ViewRebuilt`) rolls the whole page back for all of them."""
    datastore = views[0][0].datastore
    if any(view.datastore is not datastore for view, _ in views):
        raise ValueError("views processed together share one database")
    done: list[tuple[View, tuple[str, int], bool]] = []
    records = records_of(events)  # once for every view
    try:
        with datastore.transaction(commit=True) as cursor:
            for view, generation in views:
                done.append((view, *view._apply_page(cursor, records, after, generation)))
        for view, reached, applied in done:
            view._last_committed = reached
            if applied:
                view._committed()
    finally:  # a failed page leaves nothing half-remembered
        for view, _ in views:
            view._clear()
