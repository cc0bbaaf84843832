"""Opening a store or its views again and again until it can be used: a `--follow` worker
started while its database restarts (a host rebooting with everything on it, a failover)
waits for the database instead of exiting, as it waits out a lost connection once running. A
one-off command fails at once, as before."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

from adapters.cli.errors import CommandFailed, UsageError
from adapters.destinations import Ledger
from adapters.redaction import redact_url
from adapters.stores import store_env
from adapters.views import Views, views_location

__all__ = ["LONGEST_PAUSE", "TRANSIENT", "open_retrying", "views_and_ledger"]

# what a database that is restarting, or out of reach for a moment, raises
TRANSIENT = (OperationalError, InterfaceError)
LONGEST_PAUSE = 30.0  # seconds between two attempts at most

T = TypeVar("T")


def open_retrying(open_: Callable[[], T], what: str, *, wait: bool) -> T:
    """`open_()`; with `wait`, tried again after a pause growing from one second to thirty
    while the database cannot be reached, each failure said on stderr (Ctrl-C or SIGTERM end
    the wait)."""
    pause = 1.0
    while True:
        try:
            return open_()
        except TRANSIENT as error:
            if not wait:
                raise
            print(f"engage: cannot open {what} yet ({type(error).__name__}: {error}); trying "
                  f"again in {pause:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
            time.sleep(pause)
            pause = min(LONGEST_PAUSE, pause * 2)


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
