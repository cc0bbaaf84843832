"""`engage events`, `engage rebuild`, `engage digest`: the outbox and the views, from the log."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adapters.cli.commands import application
from adapters.cli.errors import CommandFailed, UsageError
from adapters.cli.progress import log_bar
from adapters.cli.render import dumps
from adapters.cli.stopping import stop_requested
from adapters.queries import event_json
from adapters.views import (
    OutboxEntry,
    OutboxView,
    View,
    Views,
    catch_up,
    rebuild,
    views_location,
)
from adapters.views.base import RebuildIncomplete, ViewRebuilt
from engage_core import EngageApplication

FOLLOW_INTERVAL = 1.0  # seconds between polls of `events --follow`


@contextmanager
def _opened(store: str) -> Iterator[tuple[EngageApplication, Views]]:
    with application(store) as app:
        try:
            views = Views(views_location(store), upstream=app.name)
        except ValueError as error:  # a bad setting (ENGAGE_VIEW_PAGE_SIZE, …)
            raise UsageError(str(error)) from None
        try:
            yield app, views
        finally:
            views.close()


def _chosen(views: Views, names: list[str], every: bool) -> list[View]:
    if every or not names:
        return list(views.by_name.values())
    unknown = [n for n in names if n not in views.by_name]
    if unknown:
        raise UsageError(f"unknown view {unknown[0]!r}; views: {', '.join(views.by_name)}")
    return [views.by_name[n] for n in names]


def print_events(args: argparse.Namespace) -> int:
    if args.since < 0 or (args.limit is not None and args.limit < 1):
        raise UsageError("--since must be at least 0 and --limit at least 1")
    remaining = args.limit
    reader = _Reader(args.since)
    with _opened(args.store) as (app, views), stop_requested() as stop:
        with log_bar("catching up") as advance:  # the first may be long; a poll's is short
            catch_up(app, [views.outbox], page=views.page, on_progress=advance)
        while not stop.is_set():
            catch_up(app, [views.outbox], page=views.page)
            if not reader.in_build(views.outbox):
                stop.wait(FOLLOW_INTERVAL)  # rebuilt, and not yet up to where we were
                continue
            try:
                for entry in reader.entries(views.outbox):
                    print(dumps(event_json(entry)), flush=args.follow)
                    if remaining is not None:
                        remaining -= 1
                        if remaining == 0:
                            return 0
            except ViewRebuilt:
                continue  # rebuilt while reading: find our place in the new build
            if not args.follow:
                return 0
            stop.wait(FOLLOW_INTERVAL)
        return 130


class _Reader:
    """Where `engage events` is in the outbox, across rebuilds: a rebuild renumbers the
    outbox (a newer mapping may publish more or fewer events), so the reader keeps the
    build its position counts in and the last event it printed, and finds that event again
    in a new build (or, where it is no longer published, the events of the log after it)."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.generation: str | None = None
        self.last: OutboxEntry | None = None

    def in_build(self, outbox: OutboxView) -> bool:
        """Place the reader in the outbox's build now; False while a rebuilt outbox has not
        reached the last event printed."""
        build = outbox.build()
        if self.generation is None or self.last is None:
            self.generation = build.generation
            return True
        if build.generation == self.generation:
            return True
        if build.position < self.last.source:
            return False
        found = outbox.position_of(self.last.message_id)
        self.after = found if found is not None else outbox.before_source(self.last.source)
        self.generation = build.generation
        print(f"engage: the outbox was rebuilt; going on after {self.last.message_id}",
              file=sys.stderr)  # fmt: skip
        return True

    def entries(self, outbox: OutboxView) -> Iterator[OutboxEntry]:
        for entry in outbox.entries(self.after, generation=self.generation):
            self.after, self.last = entry.position, entry
            yield entry


def rebuild_views(args: argparse.Namespace) -> int:
    with _opened(args.store) as (app, views):
        chosen = _chosen(views, args.views, args.all)
        try:
            with log_bar("rebuilding") as advance:
                read = rebuild(app, chosen, page=views.page, on_progress=advance)
        except RebuildIncomplete as error:
            raise CommandFailed(str(error)) from None
        print(dumps({view.name: _digest_json(view, read) for view in chosen}))
    return 0


def _digest_json(view: View, events: int | None = None) -> dict[str, Any]:
    rows, digest = view.digest()
    answer: dict[str, Any] = {"rows": rows, "digest": digest, "position": view.position()}
    if events is not None:
        answer = {"events": events, **answer}
    return answer


def print_digests(args: argparse.Namespace) -> int:
    with _opened(args.store) as (app, views):
        chosen = _chosen(views, args.views, False)
        with log_bar("catching up") as advance:
            catch_up(app, chosen, page=views.page, on_progress=advance)
        print(dumps({view.name: _digest_json(view) for view in chosen}))
    return 0
