"""Opening a store or its views again and again until it can be used: a `--follow` worker
started while its database restarts (a host rebooting with everything on it, a failover)
waits for the database instead of exiting, as it waits out a lost connection once running. A
one-off command fails at once, as before."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

from adapters.cli.errors import CommandFailed, UsageError
from adapters.destinations import Ledger
from adapters.redaction import redact_line, redact_url
from adapters.stores import store_env
from adapters.views import Views, views_location
from adapters.views.waiting import drop_broken_connections, nap

__all__ = ["LONGEST_PAUSE", "TRANSIENT", "Backoff", "open_retrying", "views_and_ledger"]

# what a database that is restarting, or out of reach for a moment, raises
TRANSIENT = (OperationalError, InterfaceError)
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0  # seconds between two attempts, doubling

T = TypeVar("T")


class Backoff:
    """The pauses of a `--follow` loop after a store error: said on stderr, cut short by a
    stop, growing from `FIRST_PAUSE` to `LONGEST_PAUSE` while errors repeat."""

    def __init__(
        self, stop: threading.Event, *owners: object, trouble: str = "the store could not be used"
    ) -> None:
        """`owners`: what holds the store's connections (the application's recorder, the
        view database), whose broken ones are dropped after each pause; `trouble`: what each
        failure's line says went wrong."""
        self.stop = stop
        self.pause = FIRST_PAUSE
        self.owners = owners
        self.trouble = trouble

    def failed(self, error: Exception) -> None:
        print(redact_line(f"engage: {self.trouble} ({type(error).__name__}: {error}); trying "
                          f"again in {self.pause:.0f} s"), file=sys.stderr, flush=True)  # fmt: skip
        nap(self.pause, self.stop)
        self.pause = min(LONGEST_PAUSE, self.pause * 2)
        drop_broken_connections(*self.owners)

    def succeeded(self) -> None:
        self.pause = FIRST_PAUSE


def open_retrying(open_: Callable[[], T], what: str, *, wait: bool) -> T:
    """`open_()`; with `wait`, tried again after a pause growing from one second to thirty
    while the database cannot be reached, each failure said on stderr (Ctrl-C or SIGTERM end
    the wait)."""
    backoff = Backoff(threading.Event(), trouble=f"cannot open {what} yet")
    while True:
        try:
            return open_()
        except TRANSIENT as error:
            if not wait:
                raise
            backoff.failed(error)


@contextmanager
def views_and_ledger(
    store: str, upstream: str = "Engage", *, wait: bool = False
) -> Iterator[tuple[Views, Ledger]]:
    """The store's views and the delivery ledger beside them; `upstream` is the application
    whose log the views track (its name keys their tracking rows). `wait`: a database that
    cannot be reached yet is waited for."""
    store_env(store)  # a bad store URL is a usage error before anything is opened
    location = views_location(store)
    try:
        views = open_retrying(lambda: Views(location, upstream=upstream), "the views", wait=wait)
    except (PersistenceError, sqlite3.Error, OSError) as error:
        raise CommandFailed(f"cannot open views {redact_url(location)}: {error}") from None
    except ValueError as error:  # a bad setting (ENGAGE_VIEW_PAGE_SIZE, …)
        raise UsageError(str(error)) from None
    try:
        yield views, open_retrying(lambda: Ledger(views.datastore), "the ledger", wait=wait)
    except (PersistenceError, sqlite3.Error) as error:
        raise CommandFailed(f"views {views.describe()} could not be used: {error}") from None
    finally:
        views.close()
