"""Keep views up to date with the log: a catch-up loop paging the notification log (SQLite has
no subscription), and rebuilds from position 0, both in bounded memory."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from eventsourcing.sqlite import SQLiteDatastore

from adapters.views.base import (
    RebuildIncomplete,
    View,
    ViewGap,
    ViewRebuilt,
    process_together,
)
from adapters.views.database import ViewDatabase, open_view_database
from adapters.views.funnel import FunnelView
from adapters.views.outbox import OutboxView
from adapters.views.records import read_page
from adapters.views.status import MessageStatusView
from adapters.views.subscriptions import SubscriptionView
from engage_core import EngageApplication
from engage_core.segment import EventSettings

PAGE = 1000
PAGE_SETTING = "ENGAGE_VIEW_PAGE_SIZE"


def page_from_environment(environ: Mapping[str, str]) -> int:
    """How many log events a catch-up applies per transaction (`ENGAGE_VIEW_PAGE_SIZE`,
    default 1000): larger pages are faster, smaller ones hold the views' write lock for less
    time and lose less work to an interruption. `ValueError` with a one-line reason."""
    raw = environ.get(PAGE_SETTING, "").strip()
    if not raw:
        return PAGE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100_000:
        raise ValueError(f"{PAGE_SETTING} must be a whole number from 1 to 100000 (got {raw!r})")
    return int(raw)


VIEW_CLASSES: dict[str, type[View]] = {
    cls.name: cls for cls in (OutboxView, MessageStatusView, SubscriptionView, FunnelView)
}


def views_location(store_url: str) -> str:
    """Where a store's views live: next to a SQLite store (`x.db` → `x.views.db`), in memory
    for `memory://`, and in the store's own database for PostgreSQL (the URL itself: `Views`
    opens its views schema)."""
    parts = urlsplit(store_url)
    if parts.scheme == "memory":
        return ":memory:"
    if parts.scheme == "sqlite":
        path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
        if path == ":memory:":
            return ":memory:"
        file = Path(path).expanduser()
        stem = file.name[: -len(file.suffix)] if file.suffix else file.name
        return str(file.with_name(f"{stem}.views.db"))
    if parts.scheme in {"postgresql", "postgres"}:
        return store_url
    return "engage.views.db"


def views_of(app: EngageApplication) -> Views:
    """The views of an application's store, where `engage` keeps them for the same store:
    beside a SQLite file, in memory for a memory store, in the views schema of a PostgreSQL
    store (read from the application's settings, so an application given by an embedder
    finds its own)."""
    env: Any = app.env
    module = str(env.get("PERSISTENCE_MODULE", ""))
    if module.endswith(".sqlite"):
        return Views(views_location("sqlite:///" + str(env.get("SQLITE_DBNAME"))),
                     upstream=app.name)  # fmt: skip
    if module.endswith(".popo"):
        return Views(views_location("memory://"), upstream=app.name)
    from adapters.views.postgres import PostgresViewDatabase  # only with the postgres extra

    return Views(PostgresViewDatabase(dict(env), name=app.name), upstream=app.name)


def installed_version() -> str:
    """This Engage's version, for `context.library` of the published events."""
    try:
        return version("engage-core")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


class Views:
    """The views of one store, sharing one view database."""

    def __init__(
        self,
        location: str | ViewDatabase,
        *,
        upstream: str = "Engage",
        event_settings: EventSettings | None = None,
        page: int | None = None,
    ) -> None:
        """`event_settings` name the outbox's events (default: from the environment, e.g.
        `ENGAGE_LEGACY_GROUP_UNSUBSCRIBED`); changing them takes `engage rebuild outbox`.
        `page` is what catch-ups of these views apply per transaction (default: from the
        environment, `ENGAGE_VIEW_PAGE_SIZE`). `location`: a SQLite path, a `postgresql://`
        store URL, or a view database already open. `ValueError` for a bad setting."""
        self.page = page if page is not None else page_from_environment(os.environ)
        self.datastore = open_view_database(location)
        settings = event_settings or EventSettings.from_environment(
            os.environ, library_version=installed_version()
        )
        self.by_name: dict[str, View] = {}
        for name, cls in VIEW_CLASSES.items():
            if cls is OutboxView:
                self.by_name[name] = OutboxView(self.datastore, upstream=upstream,
                                                settings=settings)  # fmt: skip
            else:
                self.by_name[name] = cls(self.datastore, upstream=upstream)

    @property
    def outbox(self) -> OutboxView:
        view = self.by_name[OutboxView.name]
        assert isinstance(view, OutboxView)
        return view

    def describe(self) -> str:
        """Where the views are, for messages (never a password)."""
        return self.datastore.describe()

    def close(self) -> None:
        self.datastore.close()


Progress = Callable[[int, int], None]  # (position reached, last position in the log)


RESTARTS = 1000  # pages refused in one catch-up before it gives up (each one means progress)


def catch_up(
    app: EngageApplication,
    views: Sequence[View],
    *,
    page: int = PAGE,
    on_progress: Progress | None = None,
) -> int:
    """Apply every notification after each view's tracked position; returns how many domain
    events were read. Each page is one transaction (for all the views of a SQLite file; one per
    view on PostgreSQL), so an interrupted catch-up (or rebuild) resumes where it stopped.

    Other processes may catch the same views up, or rebuild them, meanwhile: a view refuses a
    page that would leave a gap or that was read for a build since dropped, and the catch-up
    then reads every view's build and position again and pages on from there."""
    if not views:
        return 0
    recorder: Any = app.recorder
    last = recorder.max_notification_id() or 0
    read = 0
    # views in one SQLite file take a page in one transaction (one write lock and one disk
    # flush for all of them); on a server each view keeps its own lock and transaction, so
    # workers keeping different views do not wait for each other
    first = views[0].datastore
    together = first.kind == "sqlite" and all(view.datastore is first for view in views)
    for _ in range(RESTARTS):
        builds = [view.build() for view in views]
        pairs = [(view, build.generation) for view, build in zip(views, builds, strict=True)]
        start = min(build.position for build in builds)
        try:
            while start < last:
                events = read_page(app, start, page, last)
                if not events:
                    break
                if together:
                    process_together(pairs, events, after=start)
                else:
                    for view, generation in pairs:
                        # skips what the view has, read under its write lock
                        view.process(events, after=start, generation=generation)
                read += len(events)
                start = events[-1][0]
                if on_progress is not None:
                    on_progress(start, last)
            return read
        except (ViewGap, ViewRebuilt):
            continue  # another process rebuilt a view: page on from where it is now
    raise RebuildIncomplete(
        f"catching up was interrupted by rebuilds {RESTARTS} times; run it again"
    )


def rebuild(
    app: EngageApplication,
    views: Sequence[View],
    *,
    page: int = PAGE,
    on_progress: Progress | None = None,
) -> int:
    """Drop the views and their tracking, replay the log from position 0, and check that
    every view's new build applied every event the log holds up to its position
    (`RebuildIncomplete` if not). Catch-ups in other processes that started before the drop
    cannot apply their pages to the new build; those that start after it help."""
    for view in views:
        view.drop()
    read = catch_up(app, views, page=page, on_progress=on_progress)
    verify(app, views)
    return read


def verify(app: EngageApplication, views: Sequence[View]) -> None:
    """`RebuildIncomplete` unless each view's build applied exactly the events the log holds
    up to the view's position (a view from before builds were counted is not checked). A
    rebuild by another process meanwhile is no failure: its build counts from 0 as well."""
    for view in views:
        build = view.build()  # build, position and count read together
        if build.applied is None:
            continue
        expected = count_notifications(app, build.position)
        if build.applied != expected:
            raise RebuildIncomplete(
                f"view {view.name!r} applied {build.applied} events but the log holds {expected} "
                f"up to position {build.position}: run `engage rebuild {view.name}` again"
            )


def count_notifications(app: EngageApplication, upto: int) -> int:
    """How many events the log holds at positions up to `upto` (positions may have gaps on
    PostgreSQL, so this is counted, not assumed)."""
    recorder: Any = app.recorder
    datastore: Any = getattr(recorder, "datastore", None)
    table = getattr(recorder, "events_table_name", None)
    if isinstance(datastore, SQLiteDatastore) and table:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE rowid <= ?", (upto,))
            return int(cursor.fetchone()[0])
    schema = getattr(datastore, "schema", None)
    if schema and table and type(datastore).__name__ == "PostgresDatastore":
        from psycopg.sql import SQL, Identifier  # only with the postgres extra, only here

        query = SQL("SELECT COUNT(*) AS n FROM {}.{} WHERE notification_id <= %s").format(
            Identifier(schema), Identifier(table)
        )
        with datastore.transaction(commit=False) as pg:
            pg.execute(query, (upto,))
            row = pg.fetchone()
            return int(row["n"]) if row else 0
    counted, start = 0, 0
    while start < upto:
        found = recorder.select_notifications(start, PAGE, stop=upto, inclusive_of_start=False)
        if not found:
            break
        counted += len(found)
        start = found[-1].id
    return counted
