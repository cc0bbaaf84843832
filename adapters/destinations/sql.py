"""A SQL table for warehouse-style queries: `segment_events`, one row per event, upserted by
`messageId` (delivering twice leaves the same rows), in a SQLite file (by default the views
file next to the store) or PostgreSQL (`postgresql://…`, the `postgres` extra).

Columns: `message_id` (primary key), `position` (outbox), `event`, `user_id`, `anonymous_id`,
`timestamp`, `properties` and `body` (JSON: TEXT in SQLite, JSONB in PostgreSQL, where
`timestamp` is TIMESTAMPTZ)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from adapters.destinations.base import (
    Batch,
    Destination,
    Misconfigured,
    PermanentFailure,
    TransientFailure,
)
from adapters.views import OutboxEntry

TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_COLUMNS = "message_id, position, event, user_id, anonymous_id, timestamp, properties, body"
_UPDATE = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ") if c != "message_id")


def _row(entry: OutboxEntry) -> tuple[Any, ...]:
    body = entry.body
    return (
        entry.message_id, entry.position, entry.event, body.get("userId"),
        body.get("anonymousId"), body.get("timestamp"),
        orjson.dumps(body.get("properties", {})).decode(), orjson.dumps(body).decode(),
    )  # fmt: skip


class SqliteTableDestination(Destination):
    def __init__(
        self, name: str, path: Path, *, table: str = "segment_events", batch_size: int = 1000
    ) -> None:
        super().__init__(name, batch_size=batch_size)
        self.path = path
        self.table = table
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (message_id TEXT PRIMARY KEY, "
                "position INTEGER NOT NULL, event TEXT NOT NULL, user_id TEXT, "
                "anonymous_id TEXT, timestamp TEXT NOT NULL, properties TEXT NOT NULL, "
                "body TEXT NOT NULL)"
            )
            self._connection = connection
        return self._connection

    def encode(self, entry: OutboxEntry) -> bytes:
        return b""  # rows are built from the entries themselves

    def send(self, batch: Batch) -> None:
        try:
            connection = self._connect()
            with connection:  # one transaction per batch
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    f"INSERT INTO {self.table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    f"ON CONFLICT (message_id) DO UPDATE SET {_UPDATE}",
                    [_row(e) for e in batch.entries],
                )
        except sqlite3.OperationalError as error:  # locked, busy, disk I/O: worth retrying
            self.close()
            raise TransientFailure(f"SQLite {self.path}: {error}") from None
        except sqlite3.Error as error:
            self.close()
            raise PermanentFailure(f"SQLite {self.path}: {error}") from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def describe(self) -> dict[str, object]:
        return {"type": "sql", "database": str(self.path), "table": self.table}


class PostgresTableDestination(Destination):
    def __init__(
        self, name: str, url: str, *, table: str = "segment_events", batch_size: int = 1000
    ) -> None:
        super().__init__(name, batch_size=batch_size)
        self._url = url
        self.table = table
        self._connection: Any = None

    def _connect(self) -> Any:
        import psycopg  # the `postgres` extra, only when a PostgreSQL table is configured

        if self._connection is None:
            try:
                connection = psycopg.connect(self._url, connect_timeout=10)
            except psycopg.OperationalError:
                raise  # the server is unreachable or refused us: `send` retries
            except psycopg.Error as error:
                # the URL itself cannot be used, and libpq's message quotes it, password and
                # all: only the class goes into the reason (settings check this first)
                raise Misconfigured(
                    f"PostgreSQL: the connection URL cannot be used ({type(error).__name__})"
                ) from None
            with connection.transaction():
                connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} (message_id TEXT PRIMARY KEY, "
                    "position BIGINT NOT NULL, event TEXT NOT NULL, user_id TEXT, "
                    "anonymous_id TEXT, timestamp TIMESTAMPTZ NOT NULL, "
                    "properties JSONB NOT NULL, body JSONB NOT NULL)"
                )
            self._connection = connection
        return self._connection

    def encode(self, entry: OutboxEntry) -> bytes:
        return b""

    def send(self, batch: Batch) -> None:
        import psycopg

        try:
            connection = self._connect()
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {self.table} ({_COLUMNS}) VALUES "
                    "(%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb) "
                    f"ON CONFLICT (message_id) DO UPDATE SET {_UPDATE}",
                    [_row(e) for e in batch.entries],
                )
        except psycopg.OperationalError as error:  # connection refused or lost
            self.close()
            raise TransientFailure(f"PostgreSQL: {_first_line(error)}") from None
        except psycopg.errors.InsufficientPrivilege as error:  # every batch would fail alike
            self.close()
            raise Misconfigured(
                f"PostgreSQL: {_first_line(error)} (check the user's privileges)"
            ) from None
        except psycopg.Error as error:
            self.close()
            raise PermanentFailure(f"PostgreSQL: {_first_line(error)}") from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def describe(self) -> dict[str, object]:
        return {"type": "sql", "database": "postgresql", "table": self.table}


def _first_line(error: Exception) -> str:
    """The first line of a server's or libpq's message: they quote the host and the user;
    errors about the connection URL itself, which quote it whole, never get here (`_connect`
    keeps only their class), and the reason is `redact`ed besides."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def postgres_url_problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL connection URL, parsed now as libpq will (None: nothing):
    a malformed one is a settings error at startup rather than a failure of every batch, and
    libpq's message (which quotes the whole URL, password included) is never shown, only its
    class."""
    try:
        import psycopg  # the `postgres` extra, only when a PostgreSQL table is configured
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return "a PostgreSQL url needs the postgres extra (pip install 'engage[postgres]')"
    try:
        conninfo_to_dict(url)
    except psycopg.Error as error:
        return f"url is not a valid PostgreSQL connection URL ({type(error).__name__})"
    return None
