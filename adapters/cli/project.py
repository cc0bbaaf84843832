"""`engage project [--follow] [VIEW ...]`: keep views caught up with the log, as a worker.

A one-off run catches the views up and exits. `--follow` keeps them caught up: between two
catch-ups it waits on the log (`LogWaiter`), which on PostgreSQL wakes it within
milliseconds of a commit and elsewhere polls every `FOLLOW_INTERVAL`. Each view keeps its own
tracked position in the same transaction as its rows, so a stop of any kind (a signal, a
SIGKILL, a lost server) loses at most the page being applied, and the next run resumes from
where each view is. Any number of copies may run at once, on one host or several: a view
applies a page only where it joins its tracked position, under the view's write lock, so
copies share the work without applying an event twice.

With `--follow`, a store that cannot be used for a moment (a PostgreSQL server restarting, a
SQLite file locked) is said on stderr and tried again after a pause growing from one second
to thirty: a worker outlives its database's restart.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from adapters.cli.commands import application
from adapters.cli.errors import UsageError
from adapters.cli.progress import log_bar
from adapters.cli.render import dumps
from adapters.cli.reopening import TRANSIENT, Backoff, open_retrying
from adapters.cli.stopping import stop_requested
from adapters.views import View, Views, catch_up, views_location
from adapters.views.waiting import LogWaiter
from engage_core import EngageApplication

__all__ = ["FOLLOW_INTERVAL", "project_command", "waiter_said_on_stderr"]

FOLLOW_INTERVAL = 1.0  # seconds: the longest wait between two catch-ups of `--follow`


class _Stopping(Exception):
    """Asked to stop: raised between two pages of a catch-up (each committed whole)."""


@contextmanager
def waiter_said_on_stderr() -> Iterator[None]:
    """What the log waiter says (its connection lost, back again) as `engage: …` lines on
    stderr, for the length of a command."""
    logger = logging.getLogger("engage.waiting")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("engage: %(message)s"))
    handler.setLevel(logging.WARNING)
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _chosen(views: Views, names: list[str]) -> list[View]:
    unknown = [name for name in names if name not in views.by_name]
    if unknown:
        raise UsageError(f"unknown view {unknown[0]!r}; views: {', '.join(views.by_name)}")
    return [views.by_name[name] for name in dict.fromkeys(names)] or list(views.by_name.values())


def project_command(args: argparse.Namespace) -> int:
    with application(args.store, wait=args.follow) as app:
        try:
            views = open_retrying(lambda: Views(views_location(args.store), upstream=app.name),
                                  "the views", wait=args.follow)  # fmt: skip
        except ValueError as error:  # a bad setting (ENGAGE_VIEW_PAGE_SIZE, …)
            raise UsageError(str(error)) from None
        try:
            chosen = _chosen(views, args.views)
            with stop_requested() as stop, waiter_said_on_stderr():
                return _project(app, views, chosen, stop, follow=args.follow)
        finally:
            views.close()


def _project(
    app: EngageApplication, views: Views, chosen: list[View], stop: threading.Event,
    *, follow: bool,
) -> int:  # fmt: skip
    """Catch up once; with `follow`, again whenever the log may have grown, until stopped."""
    # listening before the first catch-up: what is committed during it wakes the next one
    waiter = LogWaiter(app, stop=stop) if follow else None
    backoff = Backoff(stop, app.recorder, views.datastore)
    try:
        with log_bar("catching up") as advance:  # the first may be long; the next are short
            done = _catch_up(app, views, chosen, stop, advance, backoff if follow else None)
        while done and waiter is not None and not stop.is_set():
            waiter.wait(FOLLOW_INTERVAL)
            done = _catch_up(app, views, chosen, stop, lambda _, __: None, backoff)
        return 130 if stop.is_set() else 0
    finally:
        if waiter is not None:
            waiter.close()


def _catch_up(
    app: EngageApplication, views: Views, chosen: list[View], stop: threading.Event,
    progress: Callable[[int, int], None], backoff: Backoff | None,
) -> bool:  # fmt: skip
    """One catch-up of the chosen views, and its line when it moved any; False when stopped
    on the way. A store error is the command's end (one-off), or waited out (`backoff`)."""
    try:
        before = [view.position() for view in chosen]

        def between(reached: int, last: int) -> None:
            progress(reached, last)
            if stop.is_set():
                raise _Stopping

        read = catch_up(app, chosen, page=views.page, on_progress=between)
        after = [view.position() for view in chosen]
    except _Stopping:
        return False
    except TRANSIENT as error:
        if backoff is None:
            raise
        backoff.failed(error)
        return not stop.is_set()
    if backoff is not None:
        backoff.succeeded()
    moved = [view.name for view, old, new in zip(chosen, before, after, strict=True) if new != old]
    if moved:
        print(dumps({"views": moved, "events": read, "position": min(after)}), flush=True)
    return True
