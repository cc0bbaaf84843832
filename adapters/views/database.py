"""The one port every view, the outbox and the delivery ledger use to reach their database, so
the same view code keeps its tables in a SQLite file or in PostgreSQL.

A view writes one dialect: SQLite's and PostgreSQL's common ground (`?` placeholders,
`INSERT … ON CONFLICT … DO NOTHING / DO UPDATE SET … = excluded.…`, `RETURNING`), and its
`CREATE TABLE` statements in SQLite's words, which a PostgreSQL database translates
(`INTEGER` → `BIGINT`, `BLOB` → `BYTEA`, text compared byte by byte as SQLite does, so rows
come back in the same order and digests agree across backends). What differs is here:
- how a transaction takes the write lock of what it is about to change (`ViewCursor.lock`):
  SQLite has one lock per file; PostgreSQL an advisory lock per name, so views kept by
  different workers do not wait on each other;
- where the tracking position lives (eventsourcing's tracking recorder of each backend, in
  the same transaction as the rows);
- how tables are created when several processes start at once.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)

__all__ = [
    "SQLiteViewDatabase",
    "ViewCursor",
    "ViewDatabase",
    "open_view_database",
    "select_in",
    "upsert",
]


def upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """`INSERT` of a whole row, replacing the row of the same `key`, in words both SQLite and
    PostgreSQL take (SQLite's `INSERT OR REPLACE` is its own)."""
    changed = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {changed}"
    )


def select_in(cursor: ViewCursor, query: str, keys: Sequence[Any], chunk: int = 500) -> list[Any]:
    """The rows of `query` (a SELECT ending `IN ({})`) for every key, a few hundred keys a
    statement (within SQLite's limit on parameters), so a page reads its rows in a handful of
    round trips instead of one per key."""
    found: list[Any] = []
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        cursor.execute(query.format(", ".join("?" * len(part))), part)
        found.extend(cursor.fetchall())
    return found


class ViewCursor(ABC):
    """A cursor inside one transaction of a view database. Rows answer `row[0]`,
    `row["column"]` and `dict(row)`."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def fetchone(self) -> Any: ...

    @abstractmethod
    def fetchall(self) -> list[Any]: ...

    @abstractmethod
    def fetchmany(self, size: int) -> list[Any]: ...

    def scan(self, sql: str, params: Sequence[Any] = (), size: int = 1000) -> Iterator[list[Any]]:
        """A query's rows a page of `size` at a time, never all held at once (a digest reads
        whole views): SQLite's cursor steps through its result as it is fetched."""
        self.execute(sql, params)
        while page := self.fetchmany(size):
            yield page

    @property
    @abstractmethod
    def rowcount(self) -> int: ...

    @abstractmethod
    def lock(self, name: str) -> None:
        """Take the write lock guarding `name` until the transaction ends, before anything is
        read: another transaction locking the same name waits, then reads what this one
        committed."""

    @abstractmethod
    def position(self, tracking_name: str) -> int:
        """The tracked log position of `tracking_name` (0: none)."""

    @abstractmethod
    def record(self, tracking_name: str, position: int) -> None:
        """Track `position` for `tracking_name`, in this transaction."""


class ViewDatabase(ABC):
    """Where views keep their tables and tracking positions."""

    kind: str  # "sqlite" or "postgresql"

    @abstractmethod
    def transaction(self, *, commit: bool) -> Any:
        """A context manager giving a `ViewCursor`; commits at the end when `commit`. A read
        (`commit=False`) sees one state of the database throughout, whatever other
        processes commit meanwhile."""

    @abstractmethod
    def create(self, statements: Sequence[str]) -> None:
        """Run `CREATE … IF NOT EXISTS` statements (SQLite's words) and make the tracking
        table, safely while other processes do the same."""

    def ddl(self, statement: str) -> str:
        """A `CREATE` statement in SQLite's words as this database's."""
        return statement

    @abstractmethod
    def columns(self, cursor: ViewCursor, table: str) -> set[str]:
        """The columns a table has now (for adding those a table from before lacks)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the views are, for messages: never a password."""

    @abstractmethod
    def close(self) -> None: ...


class _SQLiteCursor(ViewCursor):
    def __init__(self, cursor: SQLiteCursor, tracker: SQLiteTrackingRecorder) -> None:
        self.native = cursor
        self._tracker = tracker

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.native.sqlite_cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.native.sqlite_cursor.executemany(sql, rows)

    def fetchone(self) -> Any:
        return self.native.sqlite_cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self.native.sqlite_cursor.fetchall()

    def fetchmany(self, size: int) -> list[Any]:
        return self.native.sqlite_cursor.fetchmany(size)

    @property
    def rowcount(self) -> int:
        return int(self.native.sqlite_cursor.rowcount)

    def lock(self, name: str) -> None:
        # SQLite's `BEGIN` takes no lock, and a transaction that reads, then writes after
        # another process committed, is refused at once ("database is locked") instead of
        # waiting: a write first takes the file's one write lock (whatever the name)
        self.native.sqlite_cursor.execute(
            "UPDATE tracking SET notification_id = notification_id WHERE 0"
        )

    def position(self, tracking_name: str) -> int:
        return self._tracker._max_tracking_id(tracking_name, self.native) or 0

    def record(self, tracking_name: str, position: int) -> None:
        self._tracker._insert_tracking(self.native, Tracking(tracking_name, position))


# SQLite's page cache per connection, in KiB (its default is 2 MiB). The views' tables are
# keyed by message ids, which are random, so a page of the log touches pages all over each
# table: with the default cache, once the tables outgrow it, almost every row written reads
# its page back from the file first, and the cost of an event grows with the log. The cache
# fills only as far as the tables go, so small views stay small.
VIEW_CACHE_KIB = 65_536
# Pages the write-ahead log may hold before a commit copies them into the file (SQLite's
# default: 1,000). For the same reason, a page of the log dirties a page of each table for
# nearly every message it touches, and the next pages of the log dirty many of the same again:
# copied back every 1,000 pages, each was written to the file over and over. Commits still
# flush the log to disk as before; only the copying is less frequent (the log file grows to
# about 40 MiB, and is cut back to that size after each copy).
VIEW_WAL_PAGES = 10_000


class _ViewConnectionPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        native = connection._sqlite_conn
        native.execute(f"PRAGMA cache_size = -{VIEW_CACHE_KIB}")
        native.execute(f"PRAGMA wal_autocheckpoint = {VIEW_WAL_PAGES}")
        native.execute(f"PRAGMA journal_size_limit = {VIEW_WAL_PAGES * 4096}")
        return connection


class _ViewDatastore(SQLiteDatastore):
    """eventsourcing's SQLite datastore, its connections given the views' page cache and
    write-ahead log size."""

    def __init__(self, location: str, *, lock_timeout: int) -> None:
        super().__init__(location, lock_timeout=lock_timeout)
        self.pool = _ViewConnectionPool(db_name=location, lock_timeout=lock_timeout)


class SQLiteViewDatabase(ViewDatabase):
    """Views in one SQLite file (or in memory), beside a SQLite store."""

    kind = "sqlite"

    def __init__(self, location: str | SQLiteDatastore) -> None:
        if isinstance(location, SQLiteDatastore):
            self.datastore = location
            self.location = "(given datastore)"
        else:
            self.datastore = _ViewDatastore(location, lock_timeout=30)
            self.location = location
        self.tracker = SQLiteTrackingRecorder(self.datastore)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[ViewCursor]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield _SQLiteCursor(cursor, self.tracker)

    def create(self, statements: Sequence[str], attempts: int = 50) -> None:
        """A new file's switch to WAL takes a lock SQLite does not wait for, and
        eventsourcing's first tracking row can lose a race to another process's; both settle
        within moments, and creating what exists is a no-op."""
        for attempt in range(attempts):
            try:
                self.tracker.create_table()
                with self.datastore.transaction(commit=True) as cursor:
                    for statement in statements:
                        cursor.execute(statement)
                return
            except (IntegrityError, OperationalError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 + random.random() * 0.1)

    def columns(self, cursor: ViewCursor, table: str) -> set[str]:
        cursor.execute(f"PRAGMA table_info({table})")
        return {str(row[1]) for row in cursor.fetchall()}

    def describe(self) -> str:
        return self.location

    def close(self) -> None:
        self.datastore.close()


def open_view_database(location: str | SQLiteDatastore | ViewDatabase) -> ViewDatabase:
    """The view database at `location`: a SQLite path (or `:memory:`), a `postgresql://`
    store URL (the views then live in PostgreSQL, in the store's views schema), or a database
    already open."""
    if isinstance(location, ViewDatabase):
        return location
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        from adapters.views.postgres import PostgresViewDatabase  # only with the postgres extra

        return PostgresViewDatabase.from_store_url(location)
    return SQLiteViewDatabase(location)
