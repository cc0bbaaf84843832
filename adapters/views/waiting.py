"""Waiting for the log to grow: what a worker that keeps views or delivers the outbox does
between two rounds, so it wakes when there is something to do rather than on a timer.

On PostgreSQL every save ends with `NOTIFY <channel>` (eventsourcing's application recorder
does it, in the same transaction), so a `LogWaiter` LISTENs on that channel over a connection
of its own and `wait` returns within milliseconds of a commit. A thread keeps the connection:
it reads the notifications as they come (none is lost while the worker is busy: the next
`wait` returns at once), and when the connection is lost (a server restart, a network cut) it
connects again after a pause that grows from a fifth of a second to five seconds. Meanwhile
`wait` simply waits its whole timeout: a lost connection turns the waiter into a poll, never
into an error. After each (re)connection it wakes the worker once, since commits may have
been missed while nobody listened.

On SQLite and in memory there is nothing to listen to: `wait` sleeps its timeout (the poll
interval), as the workers always did.

A waiter given a `stop` event (set by a signal, or by a service stopping) returns as soon as
it is set, within a tenth of a second.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from adapters.redaction import redact

if TYPE_CHECKING:  # only with the postgres extra, only when the store is PostgreSQL
    from eventsourcing.postgres import PostgresDatastore

    from engage_core import EngageApplication

__all__ = ["LogWaiter", "drop_broken_connections", "nap"]

LOG = logging.getLogger("engage.waiting")
STOP_SLICE = 0.1  # seconds: how soon a waiter notices its stop event
READ_SLICE = 0.25  # seconds the listening thread waits for notifications before looking up
FIRST_RECONNECT = 0.2  # seconds before connecting again, doubling
LONGEST_RECONNECT = 5.0
HEARTBEAT = 10.0  # seconds of silence after which the listener proves its connection alive


def nap(seconds: float, stop: threading.Event | None = None) -> None:
    """Sleep `seconds`, or less once `stop` is set (looked at every `STOP_SLICE`). Never
    `stop.wait()`: in the main thread a signal handler setting `stop` could run while the wait
    holds the event's own lock, and wait for it forever."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0 and not (stop is not None and stop.is_set()):
        time.sleep(min(left, STOP_SLICE))


def drop_broken_connections(*owners: object) -> None:
    """After a lost connection (a server restart): have the PostgreSQL pools of `owners` (an
    application's recorder, a view database: what has a `datastore`) test their idle
    connections and replace those the server closed, rather than hand each one out to fail
    once, a growing pause apart. Quiet, and harmless when the server is still away."""
    for owner in owners:
        pool: Any = getattr(getattr(owner, "datastore", None), "pool", None)
        if not any(kind.__module__.startswith("psycopg_pool") for kind in type(pool).__mro__):
            continue  # SQLite's pools reopen a file: nothing is lost
        chatty = logging.getLogger("psycopg.pool")  # a warning per connection dropped
        level = chatty.level
        chatty.setLevel(logging.ERROR)
        try:
            pool.check()
        except Exception:  # still away: the next use says so
            pass
        finally:
            chatty.setLevel(level)


class LogWaiter:
    """`wait(timeout)` returns when new events may be in `app`'s log: True when a commit was
    announced, False when the timeout (or the stop event) came first. See the module."""

    def __init__(self, app: EngageApplication, *, stop: threading.Event | None = None) -> None:
        self._stop = stop
        self._woken = threading.Event()
        self._listener: _Listener | None = None
        recorder: Any = app.recorder
        channel = getattr(recorder, "channel_name", None)
        if channel and type(recorder.datastore).__name__ == "PostgresDatastore":
            self._listener = _Listener(recorder.datastore, str(channel), self._woken)
            self._listener.start()

    @property
    def listening(self) -> bool:
        """Whether commits wake the waiter now (False: it polls)."""
        return self._listener is not None and self._listener.connected.is_set()

    def wait_listening(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the listening connection (False on SQLite)."""
        return self._listener is not None and self._listener.connected.wait(timeout)

    def wait(self, timeout: float) -> bool:
        """Return when a commit was announced since the last `wait` (True), or after
        `timeout` seconds, or when the stop event is set (False)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if self._stop is not None and self._stop.is_set():
                return False
            if remaining <= 0:
                return False
            if self._listener is None:
                nap(remaining, self._stop)
                continue
            slice_ = remaining if self._stop is None else min(remaining, STOP_SLICE)
            if self._woken.wait(slice_):
                self._woken.clear()
                return True

    def close(self) -> None:
        """Stop listening and close the connection (waits for the thread, a moment)."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None


class _Listener(threading.Thread):
    """The thread holding the LISTEN connection (see the module): `woken` is set on every
    notification and after every (re)connection; `connected` while it listens."""

    def __init__(self, datastore: PostgresDatastore, channel: str, woken: threading.Event):
        super().__init__(name="engage-log-waiter", daemon=True)
        self._datastore = datastore
        self._channel = channel
        self._woken = woken
        self._closed = threading.Event()
        self.connected = threading.Event()
        self._said_lost = False

    def run(self) -> None:
        pause = FIRST_RECONNECT
        while not self._closed.is_set():
            try:
                self._listen()
                return  # closed
            except Exception as error:  # psycopg's, or the network's: try again shortly
                if self.connected.is_set():  # it was listening: reconnect soon
                    self.connected.clear()
                    pause = FIRST_RECONNECT
                if not self._said_lost:  # said once per loss, not once per attempt
                    self._said_lost = True
                    LOG.warning(
                        redact(f"not listening for new events ({type(error).__name__}: "
                               f"{error}); polling until the connection is back"),
                        extra={"engage": {"event": "not_listening"}},
                    )  # fmt: skip
            self._closed.wait(pause)
            pause = min(LONGEST_RECONNECT, pause * 2)

    def _listen(self) -> None:
        """Connect, LISTEN, and read notifications until closed (raises when the connection
        is lost)."""
        from psycopg.sql import SQL, Identifier

        from adapters.stores.postgres import dedicated_connection  # the postgres extra

        with dedicated_connection(self._datastore, "log waiter") as connection:
            connection.execute(SQL("LISTEN {}").format(Identifier(self._channel)))
            self.connected.set()
            self._woken.set()  # commits may have come while nobody listened
            if self._said_lost:
                self._said_lost = False
                LOG.warning("listening for new events again",
                            extra={"engage": {"event": "listening"}})  # fmt: skip
            quiet_since = time.monotonic()
            while not self._closed.is_set():
                for _ in connection.notifies(timeout=READ_SLICE, stop_after=1):
                    self._woken.set()
                    quiet_since = time.monotonic()
                if time.monotonic() - quiet_since > HEARTBEAT:
                    connection.execute("SELECT 1")  # raises if the server is gone
                    quiet_since = time.monotonic()
            self.connected.clear()

    def close(self) -> None:
        self._closed.set()
        self.join(READ_SLICE * 4 + 1)
