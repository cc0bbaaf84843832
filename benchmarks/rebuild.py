"""Workload "rebuild": every view dropped and rebuilt from position 0 of a SQLite event log.

The log is written untimed first: seeded provider traffic (`benchmarks.traffic`) observed in
batches of 1,000, the message events plus the consent changes the policies cause. The subject is
`adapters.views.rebuild` over every registered view (the outbox and the others): page the
notification log, decode each event (cattrs + orjson), apply it to every view, write rows and
tracking in one transaction per page and view. Each round rebuilds into a fresh views file.

The baseline is the floor of reading that log at all: sqlite3 paging the same `stored_events`
rows in notification order and `orjson.loads` of every state blob, in the same process. The
goal asks the rebuild for half that rate.

Memory: a rebuild must not grow with the log. Its peak RSS (`VmHWM`) is read in a fresh process
rebuilding a tenth of the log and then all of it, so growth with N is visible (goal: under
300 MB, flat in N).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import orjson

from adapters.stores import store_env
from adapters.views import VIEW_CLASSES, Views, rebuild
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
RAW = "sqlite3 read + orjson decode"
GOALS = (Goal(SUBJECT, RAW, 0.5),)
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


@contextmanager
def _rebuild_trial(log: Path) -> Iterator[Run]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        app = _open(log)
        views = Views(str(Path(directory) / "views.db"))
        try:
            yield lambda: rebuild(app, list(views.by_name.values()), page=PAGE)
        finally:
            views.close()
            app.close()


@contextmanager
def _raw_trial(log: Path) -> Iterator[Run]:
    connection = sqlite3.connect(log)

    def run() -> int:
        read, after = 0, 0
        while True:
            rows = connection.execute(
                "SELECT rowid, topic, state FROM stored_events WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?",
                (after, PAGE),
            ).fetchall()
            for _, _, state in rows:
                orjson.loads(state)
            read += len(rows)
            if len(rows) < PAGE:
                return read
            after = rows[-1][0]

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
        contenders = [
            Contender(SUBJECT, lambda: _rebuild_trial(log)),
            Contender(RAW, lambda: _raw_trial(log)),
        ]
        result = measure("rebuild", "events/s", contenders, repeats)
        lines = [
            f"rebuild: {events:,} stored events ({observations:,} observations, seed {seed}), "
            f"views {', '.join(VIEW_CLASSES)}, pages of {PAGE:,}, best of {repeats}"
        ]
        text = format_result(result, GOALS, heading=lines[0])
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
