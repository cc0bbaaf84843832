"""Workload "rebuild": every view dropped and rebuilt from position 0 of a SQLite event log.

The log is written untimed first: seeded provider traffic (`benchmarks.traffic`) observed in
batches of 1,000, the message events plus the consent changes the policies cause. The subject is
`adapters.views.rebuild` over every registered view (the outbox and the others): page the
notification log, decode each page's stored JSON once for every view (reports read field by
field, other events as typed events), apply it to every view, write rows and tracking in one
transaction per page (SQLite). Each round rebuilds into a fresh views file.

The baseline the goal is checked on is the floor of the same durable work: sqlite3 paging the
same `stored_events` rows in notification order and `orjson.loads` of every state blob, plus
`executemany` of as many view rows as the rebuild wrote (SQLite's `total_changes()` on the
views' connection after the first round's rebuild) into tables created by the views' own
`CREATE` statements (read from that rebuilt file, indexes included), one transaction per
page of the log. Writing the rows costs several times reading the log, so a floor without it
would ask for the impossible. The rows it writes are the rebuilt views' own, streamed from a
copy of that file in table order, taken again (`INSERT OR REPLACE`) where the rebuild wrote a
row more than once; that sequential read is part of the floor's time (about a microsecond a
row against several for the insert). The goal asks the rebuild for half the floor's rate;
read + decode alone is shown as well.

Memory: a rebuild must not grow with the log. Its peak RSS (`VmHWM`) is read in a fresh process
rebuilding a tenth of the log and then all of it, so growth with N is visible (goal: under
300 MB, flat in N).
"""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import orjson

from adapters.stores import store_env
from adapters.views import VIEW_CLASSES, Views, rebuild
from adapters.views.database import VIEW_CACHE_KIB, VIEW_WAL_PAGES
from benchmarks.harness import (
    Contender,
    Goal,
    Result,
    Run,
    child_report,
    format_result,
    measure,
    peak_during,
)
from benchmarks.traffic import observation_stream
from engage_core.application import EngageApplication

SUBJECT = "rebuild, every view"
FLOOR = "read + decode + write of the view rows"
RAW = "sqlite3 read + orjson decode"
GOALS = (Goal(SUBJECT, FLOOR, 0.5),)
FULL_EVENTS = 1_000_000
QUICK_EVENTS = 20_000
FULL_REPEATS = 1  # a full log takes minutes to write and to rebuild
PAGE = 1_000


def write_log(path: Path, *, observations: int, seed: int) -> int:
    """A SQLite event log of about `observations` events; returns the events stored."""
    app = EngageApplication(env=store_env(f"sqlite:///{path}"))
    try:
        for batch in observation_stream(seed, observations).batches(1_000):
            app.observe(batch)
        return int(app.recorder.max_notification_id() or 0)
    finally:
        app.close()


def _open(log: Path) -> EngageApplication:
    return EngageApplication(env=store_env(f"sqlite:///{log}"))


@attrs.define
class _Rebuilt:
    """What the first rebuild left for the floor: the rows it wrote, and a copy of its views."""

    views: Path
    writes: int = 0


@contextmanager
def _rebuild_trial(log: Path, kept: _Rebuilt) -> Iterator[Run]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        app = _open(log)
        views = Views(str(Path(directory) / "views.db"))
        try:
            yield lambda: rebuild(app, list(views.by_name.values()), page=PAGE)
            if not kept.writes:
                with views.datastore.transaction(commit=False) as cursor:
                    cursor.execute("SELECT total_changes()")
                    kept.writes = int(cursor.fetchone()[0])
        finally:
            views.close()
            app.close()
        if not kept.views.exists():
            _checkpoint(Path(directory) / "views.db")
            shutil.copyfile(Path(directory) / "views.db", kept.views)


def _checkpoint(database: Path) -> None:
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _schema(views: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The views' CREATE statements (tables first), and every table with its INSERT."""
    connection = sqlite3.connect(views)
    try:
        found = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid"
        ).fetchall()
        tables = []
        for kind, name, _ in found:
            if kind == "table":
                width = len(connection.execute(f'SELECT * FROM "{name}" LIMIT 0').description)
                marks = ", ".join("?" * width)
                tables.append((name, f'INSERT OR REPLACE INTO "{name}" VALUES ({marks})'))
    finally:
        connection.close()
    return [sql for _, _, sql in found], tables


def _view_rows(source: sqlite3.Connection, tables: list[tuple[str, str]]) -> Iterator[Any]:
    """(insert, row) for every row of every view table, over and over."""
    while True:
        for name, insert in tables:
            for row in source.execute(f'SELECT * FROM "{name}"'):
                yield insert, row


@contextmanager
def _floor_trial(log: Path, kept: _Rebuilt) -> Iterator[Run]:
    statements, tables = _schema(kept.views)
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        target = sqlite3.connect(Path(directory) / "floor.db", isolation_level=None)
        target.execute("PRAGMA journal_mode=WAL")
        # the views' own page cache and checkpoint interval: the floor writes the same rows
        # with the same help, or it would pay the page reads the views' tuning saves
        target.execute(f"PRAGMA cache_size = -{VIEW_CACHE_KIB}")
        target.execute(f"PRAGMA wal_autocheckpoint = {VIEW_WAL_PAGES}")
        for statement in statements:
            target.execute(statement)
        source, reader = sqlite3.connect(kept.views), sqlite3.connect(log)
        (events,) = reader.execute("SELECT COUNT(*) FROM stored_events").fetchone()
        per_page = -(-kept.writes // max(1, -(-int(events) // PAGE)))

        def run() -> int:
            rows = _view_rows(source, tables)
            read = 0
            for page in _pages(reader):
                for _, _, state in page:
                    orjson.loads(state)
                read += len(page)
                target.execute("BEGIN")
                for insert, group in itertools.groupby(
                    itertools.islice(rows, per_page), key=lambda pair: pair[0]
                ):
                    target.executemany(insert, [row for _, row in group])
                target.execute("COMMIT")
            return read

        try:
            yield run
        finally:
            target.close()
            source.close()
            reader.close()


def _pages(connection: sqlite3.Connection) -> Iterator[list[Any]]:
    """The log's rows in notification order, `PAGE` at a time."""
    after = 0
    while True:
        rows = connection.execute(
            "SELECT rowid, topic, state FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, PAGE),
        ).fetchall()
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


@contextmanager
def _raw_trial(log: Path) -> Iterator[Run]:
    connection = sqlite3.connect(log)

    def run() -> int:
        read = 0
        for page in _pages(connection):
            for _, _, state in page:
                orjson.loads(state)
            read += len(page)
        return read

    try:
        yield run
    finally:
        connection.close()


@attrs.frozen
class PeakMemory:
    events: int
    before_kib: int
    peak_kib: int
    seconds: float


def _child(log: Path, directory: Path) -> dict[str, object]:
    """Only the rebuild, in this fresh process: its peak RSS before and after."""
    app = _open(log)
    views = Views(str(directory / "views.db"))
    read, measured = peak_during(lambda: rebuild(app, list(views.by_name.values()), page=PAGE))
    views.close()
    app.close()
    return {"events": read, **measured}


def peak_memory(log: Path) -> PeakMemory:
    report = child_report("benchmarks.rebuild", str(log))
    return PeakMemory(int(report["events"]), int(report["before_kib"]),
                      int(report["peak_kib"]), float(report["seconds"]))  # fmt: skip


def _mib(kib: int) -> str:
    return f"{kib / 1024:6.1f} MiB"


def run(*, observations: int, seed: int, repeats: int, memory: bool = True) -> tuple[Result, str]:
    """Write a log of about `observations` events (and one a tenth the size, for memory),
    then measure rebuilds against raw reads of it."""
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        log = Path(directory) / "engage.db"
        events = write_log(log, observations=observations, seed=seed)
        kept = _Rebuilt(Path(directory) / "rebuilt-views.db")
        contenders = [  # the subject first: its first round leaves what the floor writes
            Contender(SUBJECT, lambda: _rebuild_trial(log, kept)),
            Contender(FLOOR, lambda: _floor_trial(log, kept)),
            Contender(RAW, lambda: _raw_trial(log)),
        ]
        result = measure("rebuild", "events/s", contenders, repeats)
        heading = (
            f"rebuild: {events:,} stored events ({observations:,} observations, seed {seed}), "
            f"views {', '.join(VIEW_CLASSES)}, pages of {PAGE:,}, {kept.writes:,} view rows "
            f"written ({kept.writes / max(events, 1):.2f} an event), best of {repeats}"
        )
        text = format_result(result, GOALS, heading=heading) + (
            f"\n  {SUBJECT} / {RAW}: {result.ratio(SUBJECT, RAW):.2f}x   (no goal: the floor "
            "above adds the writes)"
        )
        if memory:
            small_log = Path(directory) / "small.db"
            write_log(small_log, observations=max(observations // 10, 1), seed=seed)
            small, full = peak_memory(small_log), peak_memory(log)
            text += (
                "\n  peak RSS (VmHWM) of a rebuild alone, each in a fresh process "
                "(goal: < 300 MB, flat in N):"
                f"\n    {small.events:>10,} events: {_mib(small.peak_kib)}"
                f"  ({_mib(small.before_kib)} before; {small.events / small.seconds:,.0f} events/s)"
                f"\n    {full.events:>10,} events: {_mib(full.peak_kib)}"
                f"  ({_mib(full.before_kib)} before; {full.events / full.seconds:,.0f} events/s)"
                f"\n    growth of the peak for {full.events / max(small.events, 1):.0f}x the "
                f"events: {(full.peak_kib - small.peak_kib) / 1024:+.1f} MiB"
            )
    return result, text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "--child":
        print(json.dumps(_child(Path(args[1]), Path(args[2]))))
        return 0
    print("usage: python -m benchmarks.rebuild --child LOG DIRECTORY", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
