"""A role only one process may play at a time, per store: delivering the outbox.

Two deliverers on one destination would each send a batch before one of them found the
cursor moved (the ledger's compare and set) and stopped: correct, at least once, but every
batch they raced for arrives twice. So a deliverer first takes the role's lock; the others
stand by and take over when it goes.

- Beside a SQLite store the lock is an advisory lock (`flock`) on a file beside the views
  (`engage.views.db.deliver.lock`): one deliverer per machine, which is all a SQLite file
  allows anyway. A process that dies, however, has its file closed by the system, and with it
  the lock. (On a system without `fcntl` every process delivers: still correct.)
- On PostgreSQL it is a session-level advisory lock (`pg_try_advisory_lock`) held on a
  connection of its own, its key derived from the views schema and the role: one deliverer
  across every host sharing the database. When the holder's connection ends (the process
  exits or is killed, its host vanishes, the server restarts) the server releases the lock,
  and a process waiting for it has it at once. The connection has TCP keepalives on both ends,
  so a vanished host is noticed within about 25 seconds.

A holder can lose a PostgreSQL lock without being told (its connection cut while it works),
so it proves the lock before each batch (`check`: one round trip on the lock's connection;
`Guarded` does it before every send). A batch already being sent when the lock went may also
be sent by the process that took over: that batch, and only that one, arrives twice.
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adapters.destinations.base import Batch, Destination
from adapters.redaction import redact
from adapters.views import OutboxEntry, ViewDatabase
from adapters.views.waiting import nap

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import psycopg
    from eventsourcing.postgres import PostgresDatastore

__all__ = ["DELIVER", "Guarded", "RoleLock", "RoleLost", "role_lock", "role_lock_key"]

DELIVER = "deliver"
SLICE = 0.5  # seconds a waiting process blocks on the lock before looking at its stop event
FILE_POLL = 0.2  # seconds between tries of a file lock (flock cannot wait with a timeout)


class RoleLost(Exception):
    """The role's lock was lost while this process held it (its connection cut): stop
    delivering until it is taken again."""


def role_lock_key(schema: str, role: str) -> int:
    """The advisory lock key of `role` for the views in `schema` (a signed 64-bit integer,
    the same in every process, and apart from the keys the views and table creation use)."""
    from adapters.stores.postgres import advisory_key  # the postgres extra

    return advisory_key(f"engage role {role} for views {schema}")


class RoleLock(ABC):
    """The lock of one role (see the module). `where` names it for messages."""

    role: str
    where: str
    problem: str | None = None  # why the lock could not be reached, when it could not

    @property
    @abstractmethod
    def held(self) -> bool:
        """Whether this process holds it, as far as it knows (no round trip)."""

    @abstractmethod
    def acquire(self) -> bool:
        """Take it if it is free, without waiting; whether this process holds it now."""

    def check(self) -> bool:
        """Whether this process still holds it, proven now; False also forgets it."""
        return self.held

    @abstractmethod
    def release(self) -> None:
        """Let another process take it (nothing when not held)."""

    @abstractmethod
    def _attempt(self, seconds: float, stop: threading.Event | None) -> bool:
        """Wait up to `seconds` for it (less when `stop` is set); whether it is held."""

    def __enter__(self) -> RoleLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def take(
        self, stop: threading.Event, say: Callable[[str], None], timeout: float | None = None
    ) -> bool:
        """Hold it: at once when it is free; otherwise `say` that this process stands by, wait
        up to `timeout` seconds (None: until the holder goes) and `say` so when it took over.
        Whether this process holds it (False: timed out, or `stop` was set)."""
        if self.acquire():
            return True
        say(f"another process holds the {self.role} lock ({self.where}); "
            + ("standing by to take over when it stops" if timeout is None
               else f"waiting up to {timeout:.0f} s for it"))  # fmt: skip
        if not self.wait(timeout, stop):
            return False
        say(f"took the {self.role} lock over ({self.where})")
        return True

    def wait(self, timeout: float | None = None, stop: threading.Event | None = None) -> bool:
        """Take it, waiting while another process holds it: up to `timeout` seconds (None:
        for as long as it takes) or until `stop` is set. Whether this process holds it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while stop is None or not stop.is_set():
            if self.acquire():
                return True
            remaining = SLICE if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._attempt(min(SLICE, remaining), stop):
                return True
        return False


class _Unshared(RoleLock):
    """Views no other process can reach (in memory), or no way to lock (no `fcntl`): always
    held."""

    def __init__(self, role: str, where: str) -> None:
        self.role, self.where = role, where

    @property
    def held(self) -> bool:
        return True

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def _attempt(self, seconds: float, stop: threading.Event | None) -> bool:
        return True


class FileRoleLock(RoleLock):
    """An advisory lock (`flock`) on `path`, held while the file is open."""

    def __init__(self, role: str, path: str) -> None:
        self.role, self.path, self.where = role, path, path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _attempt(self, seconds: float, stop: threading.Event | None) -> bool:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            nap(min(FILE_POLL, left), stop)
            if (stop is not None and stop.is_set()) or self.acquire():
                return self.held
        return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None


class PostgresRoleLock(RoleLock):
    """A session-level advisory lock on a connection of its own (see the module). `problem`
    is why the lock's connection last failed, for messages (None: it did not)."""

    def __init__(self, role: str, datastore: PostgresDatastore, schema: str) -> None:
        self.role = role
        self.key = role_lock_key(schema, role)
        self.where = f"PostgreSQL advisory lock {self.key} ({role}, schema {schema})"
        self._datastore = datastore
        self._connection: psycopg.Connection[Any] | None = None
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        if self._held:
            return True
        row = self._run("SELECT pg_try_advisory_lock(%s)", self.key)
        self._held = bool(row and row[0])
        return self._held

    def check(self) -> bool:
        if self._held and self._run("SELECT 1") is None:
            self._held = False  # the connection is gone, and the lock with it
        return self._held

    def _attempt(self, seconds: float, stop: threading.Event | None) -> bool:
        """Wait in the server (`pg_advisory_lock` bounded by `lock_timeout`): it grants the
        lock the moment its holder's session ends."""
        import psycopg

        if self._run(f"SET lock_timeout = {max(1, int(seconds * 1000))}") is None:
            nap(seconds, stop)  # the server is unreachable: try again after a pause
            return False
        try:
            self._run("SELECT pg_advisory_lock(%s)", self.key, raising=True)
        except psycopg.errors.LockNotAvailable:
            return False
        except psycopg.Error:
            nap(seconds, stop)
            return False
        self._held = True
        return True

    def _run(self, statement: str, *params: int, raising: bool = False) -> tuple[Any, ...] | None:
        """One statement on the lock's connection (made when there is none); its first
        row, or None when the connection failed (which closes it: a lock on it is gone)."""
        import psycopg

        from adapters.stores.postgres import dedicated_connection  # the postgres extra

        try:
            if self._connection is None or self._connection.closed:
                self._connection = dedicated_connection(self._datastore, f"{self.role} lock")
            found = self._connection.execute(statement, params)
            row = found.fetchone() if found.description is not None else None
            self.problem = None
            return tuple(row) if row is not None else ()
        except psycopg.errors.LockNotAvailable:
            raise
        except psycopg.Error as error:
            self.problem = redact(f"{type(error).__name__}: {error}")
            self._drop()
            if raising:
                raise
            return None

    def _drop(self) -> None:
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            connection.close()

    def release(self) -> None:
        """Unlock (said, so a pooler in session mode never keeps it) and close."""
        if self._held and self._connection is not None:
            self._run("SELECT pg_advisory_unlock(%s)", self.key)
        self._drop()


def role_lock(database: ViewDatabase, role: str = DELIVER) -> RoleLock:
    """The lock of `role` for the views in `database`: a file beside a SQLite views file, an
    advisory lock in PostgreSQL, none for views in memory."""
    if database.kind == "postgresql":
        from adapters.views.postgres import PostgresViewDatabase

        assert isinstance(database, PostgresViewDatabase)
        return PostgresRoleLock(role, database.datastore, database.schema)
    pool: Any = getattr(getattr(database, "datastore", None), "pool", None)
    name = str(getattr(pool, "db_name", ":memory:"))
    if getattr(pool, "is_sqlite_memory_mode", True):
        return _Unshared(role, "(views in memory: this process's own)")
    if fcntl is None:  # pragma: no cover - not on Windows
        return _Unshared(role, "(no file locks on this system: every process delivers)")
    return FileRoleLock(role, f"{name}.{role}.lock")


class Guarded(Destination):
    """A destination that proves its role's lock before each batch it sends (`RoleLost` if
    it was lost: the batch is not sent and the cursor stays), so a deliverer whose lock went
    stops before a second batch, not at the end of its backlog."""

    def __init__(self, destination: Destination, lock: RoleLock) -> None:
        super().__init__(destination.name, batch_size=destination.batch_size)
        self.inner = destination
        self.lock = lock

    def encode(self, entry: OutboxEntry) -> bytes:
        return self.inner.encode(entry)

    def fits(self, count: int, size: int) -> bool:
        return self.inner.fits(count, size)

    def send(self, batch: Batch) -> None:
        if not self.lock.check():
            raise RoleLost(f"lost the {self.lock.role} lock ({self.lock.where})")
        self.inner.send(batch)

    def describe(self) -> dict[str, object]:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()
