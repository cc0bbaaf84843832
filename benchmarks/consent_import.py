"""Workload "consent": the subscription CSV import into a SQLite file, rows/s and peak memory.

Issue 3 asks for at least 20,000 rows/s at 1M generated rows, in bounded memory.

**The input** is a seeded, generated subscription CSV in Segment's format
(`engage_core.consent.csv_format`), written row by row to a temporary file, so a million rows
never sit in memory. Its columns are `email`, `phone`, `email_subscription_status`,
`sms_subscription_status`, `whatsapp_subscription_status`, `Newsletter_subscription_status` and
`Product Updates_subscription_status`. The mix, per row:
- an email address and an email status in every row. About 95% of the rows bring a new address;
  the other 5% repeat an earlier one, as real exports do. The addresses vary in style and case
  over a few providers' domains;
- a phone number and an SMS status in about 1/3 of the rows. About 10% of those numbers repeat
  an earlier one. The formats are mixed: half E.164 (`+12125550123`), the rest US national
  (`(212) 555-0123`, `212-555-0123`, `212.555.0123`). A WhatsApp status comes with about 9% of
  the phone rows (about 3% of all rows);
- the two group columns are mostly blank. A group status is written only where the row's email
  status is `subscribed`, so it always applies: the newsletter in 12% of those rows, product
  updates in 5%;
- statuses are written in varied case and spelling: `subscribed`, `Subscribed`, `SUBSCRIBED`,
  `Unsubscribed`, `did-not-subscribe`, `DID_NOT_SUBSCRIBE`, … Emails are 70% subscribed, 20%
  unsubscribed and 10% did-not-subscribe; SMS and WhatsApp 60/30/10;
- about 0.5% of the rows are bad: half have an address that is not one (no `@`, two `@`, a
  space, a trailing dot), half an email status that is not one (`subscribe`, `opted-out`, …).
  They exercise the error path: each must fail and go to the error file, and nothing else may
  fail.
The generator draws the same numbers for row i whatever the file's size, so a smaller file of
the same seed is the first rows of a bigger one.

**The subject** ("import, engage store") is `import_subscriptions` (batches of 1,000 rows) into
`EngageApplication(env=store_env("sqlite:///…"))`, what `engage --store sqlite:///… subscriptions
import FILE --errors ERRORS` runs, reading the CSV from disk and writing the failed rows to an
error file.

**The baseline** ("csv + sqlite3 executemany") is the physical floor for the same file:
`csv.reader` over it, and one row per CSV row written with sqlite3 `executemany` into a table
shaped like eventsourcing's `stored_events` (the one `benchmarks.ingest` uses): a random 128-bit
hex id, as uuid5 ids are, version 1, a fixed topic, and the row's cells as a JSON blob (orjson).
WAL mode, synchronous FULL, one transaction per 1,000 rows. The subject stores more than one
event for some rows (an SMS status, a group), so the ratio also carries that.

The random keys are what the floor costs at this size: every transaction dirties primary-key
index pages all over the index, and each of them is written to the WAL and synced. At 1M rows
the baseline ran at 34,000-41,000 rows/s with random keys and about 260,000 with sequential
ones; a 64 MiB page cache instead of the default 2 MiB changed little (39,000 against 38,000).
At 20,000 rows it runs at about 200,000 rows/s with random keys. (One-off runs, 2026-11-28.)
The subject's uuid5 ids are random too and pay the same.

Both run in one process over the same file, a fresh temporary directory and database file each
round; generating the file is not timed. The goal is stated both ways: a ratio against the
baseline (`RATIO_GOAL`, 20,000 rows/s against this VM's baseline at 1M rows) and the issue's
absolute 20,000 rows/s, printed next to it.

**Peak memory.** For each of two sizes (a tenth of the rows, then all of them) a fresh Python
process (`python -m benchmarks.consent_import --child CSV DIRECTORY`) runs only the import and
reports its peak RSS before the import (after the modules are imported and the application
opened) and at its end. Bounded memory shows as the same peak at both sizes. The peak is read
from `/proc/self/status` (`VmHWM`), not `ru_maxrss`, which in a child starts at the parent's
size (see `peak_rss_kib`).

A full run (`python -m benchmarks --only consent`) is 1,000,000 rows and one round (at that
size the import takes 2-2.5 minutes, the baseline about 30 s), plus the two memory processes
(another 2.5 minutes): about 5.5 minutes in all. `--repeats` asks for more rounds,
`--observations` sets the rows, `--quick` is 20,000 rows, best of 3.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import orjson
from eventsourcing.sqlite import SQLiteApplicationRecorder

from adapters.imports.subscriptions_csv import import_subscriptions
from adapters.stores import store_env
from benchmarks.consent_csv import Generated, write_csv
from benchmarks.harness import (
    Contender,
    Goal,
    Result,
    Run,
    child_report,
    format_result,
    measure,
    peak_during,
    profile_call,
)
from benchmarks.ingest import CREATE_TABLE, INSERT
from engage_core.application import EngageApplication
from engage_core.counts import Counts

SUBJECT = "import, engage store"
RAW = "csv + sqlite3 executemany"
# The goal, in absolute terms, and as a ratio: the baseline ran at 34,400-36,400 rows/s
# at 1M rows on the 2 vCPU VM (2026-11-28, three rounds in two runs; later 37,700-40,600), and
# 20,000 / 35,000 is about 0.57. At smaller sizes the baseline runs much faster (about
# 200,000 rows/s at 20,000 rows), so the ratio goal only means 20,000 rows/s at 1M rows.
ABSOLUTE_GOAL = 20_000.0
RATIO_GOAL = 0.57
GOALS = (Goal(SUBJECT, RAW, RATIO_GOAL),)
FULL_ROWS = 1_000_000
QUICK_ROWS = 20_000
FULL_REPEATS = 1  # at 1M rows a round of both contenders takes minutes
PROFILE_ROWS = 100_000  # cProfile doubles the time: --profile imports at most this many rows
BATCH = 1_000  # rows per transaction, both contenders (the import's default batch)
TOPIC = "engage_core.consent.events:ChannelUpdateRecorded"


def _open_csv(path: Path) -> Iterator[list[str]]:
    """The data rows, as `csv.reader` reads them (the header skipped)."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source)
        next(reader, None)
        yield from reader


def open_application(database: Path) -> EngageApplication:
    """What `engage --store sqlite:///<database>` opens."""
    app = EngageApplication(env=store_env(f"sqlite:///{database}"))
    if not isinstance(app.recorder, SQLiteApplicationRecorder):
        app.close()
        raise RuntimeError(
            f"expected a SQLite recorder, got {type(app.recorder).__name__}: is "
            "PERSISTENCE_MODULE set in the environment? (it overrides the benchmark's)"
        )
    return app


def import_file(app: EngageApplication, csv_path: Path, errors_path: Path) -> Counts:
    """The import as the CLI runs it: the file read from disk, failed rows to an error file."""
    with (
        csv_path.open(encoding="utf-8-sig", newline="") as source,
        errors_path.open("w", encoding="utf-8", newline="") as errors,
    ):
        return import_subscriptions(app, source, source=csv_path.name, errors=errors)


def _count_stored(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    connection.close()
    return int(count)


@attrs.define
class _Seen:
    """What the subject's rounds returned and stored, for the report and the checks."""

    imports: list[Counts] = attrs.Factory(list)
    stored: list[int] = attrs.Factory(list)


@contextmanager
def _import_trial(csv_path: Path, seen: _Seen) -> Iterator[Run]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        database = Path(directory) / "engage.db"
        app = open_application(database)

        def run() -> int:
            result = import_file(app, csv_path, Path(directory) / "errors.csv")
            seen.imports.append(result)
            return result.received

        try:
            yield run
        finally:
            app.close()
        if len(seen.stored) < len(seen.imports):
            seen.stored.append(_count_stored(database))


@contextmanager
def _raw_trial(csv_path: Path, seed: int) -> Iterator[Run]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        connection = sqlite3.connect(Path(directory) / "raw.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(CREATE_TABLE)

        def write(chunk: list[tuple[str, int, str, bytes]]) -> None:
            connection.execute("BEGIN")
            connection.executemany(INSERT, chunk)
            connection.execute("COMMIT")

        def run() -> int:
            ids = random.Random(seed).getrandbits  # random keys, as uuid5 ids are
            rows = 0
            chunk: list[tuple[str, int, str, bytes]] = []
            for cells in _open_csv(csv_path):
                chunk.append((f"{ids(128):032x}", 1, TOPIC, orjson.dumps(cells)))
                if len(chunk) >= BATCH:
                    write(chunk)
                    rows += len(chunk)
                    chunk = []
            if chunk:
                write(chunk)
                rows += len(chunk)
            return rows

        try:
            yield run
        finally:
            connection.close()


@attrs.frozen
class PeakMemory:
    """One import alone in a fresh process: its peak RSS, and the peak before the import (the
    interpreter, the modules and the open application)."""

    rows: int
    before_kib: int
    peak_kib: int
    seconds: float
    result: Counts


def _child(csv_path: Path, directory: Path) -> dict[str, object]:
    """Run only the import, and read the peak RSS before and after it."""
    app = open_application(directory / "engage.db")
    result, measured = peak_during(lambda: import_file(app, csv_path, directory / "errors.csv"))
    app.close()
    return {**measured, **attrs.asdict(result)}


def peak_memory(csv_path: Path) -> PeakMemory:
    """Import `csv_path` into a fresh database in a fresh process and read its peak RSS."""
    report = child_report("benchmarks.consent_import", str(csv_path))
    result = Counts(
        received=report["received"],
        applied=report["applied"],
        unchanged=report["unchanged"],
        rejected=report["rejected"],
    )
    return PeakMemory(
        result.received, int(report["before_kib"]), int(report["peak_kib"]),
        float(report["seconds"]), result,
    )  # fmt: skip


@attrs.frozen
class ConsentRun:
    """Everything a run measured: rates, the input, what the subject did, peak memory."""

    result: Result
    generated: Generated
    imports: tuple[Counts, ...]  # the subject's result, each round
    stored_events: tuple[int, ...]  # rows in the subject's stored_events, each round
    memory: tuple[PeakMemory, ...]  # the smaller size first


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.1f} MiB"


def _report(run: ConsentRun, *, seed: int, repeats: int) -> str:
    g, result = run.generated, run.result
    heading = (
        f"consent: CSV import of {g.rows:,} rows ({g.bytes / 1e6:,.1f} MB, seed {seed}): "
        f"{g.distinct_emails:,} addresses ({g.repeated_emails / g.rows:.1%} of rows repeat one), "
        f"{g.phone_rows / g.rows:.1%} with a phone ({g.distinct_phones:,} numbers), "
        f"{g.whatsapp_rows / g.rows:.1%} WhatsApp, {g.group_cells:,} group statuses, "
        f"{g.bad_rows:,} bad rows; batches of {BATCH:,}, SQLite file (WAL, synchronous FULL), "
        f"best of {repeats}"
    )
    lines = [format_result(result, GOALS, heading=heading)]
    best = result.best(SUBJECT)
    lines.append(
        f"  goal, absolute: {SUBJECT} >= {ABSOLUTE_GOAL:,.0f} rows/s: "
        f"{'met' if best >= ABSOLUTE_GOAL else 'MISSED'} ({best:,.0f} rows/s)\n"
        f"    ({ABSOLUTE_GOAL:,.0f} rows/s is {ABSOLUTE_GOAL / result.best(RAW):.2f}x this run's "
        f"baseline; the ratio goal {RATIO_GOAL:g}x is it against the baseline at 1M rows)"
    )
    imported = run.imports[-1]
    adds_up = imported.adds_up and imported.received == g.rows
    lines.append(
        f"  import result: {imported.received:,} rows = {imported.applied:,} applied + "
        f"{imported.unchanged:,} unchanged + {imported.rejected:,} rejected"
        f"{'' if adds_up else ' (MISMATCH with the rows generated)'}; rejected "
        f"{'=' if imported.rejected == g.bad_rows else '!= (MISMATCH)'} bad rows generated "
        f"({g.bad_rows:,}); {run.stored_events[-1]:,} events stored "
        f"({run.stored_events[-1] / g.rows:.2f} per row)"
    )
    if run.memory:
        lines.append("  peak RSS (VmHWM) of the import alone, each in a fresh process:")
        width = len(f"{run.memory[-1].rows:,}")
        for m in run.memory:
            lines.append(
                f"    {m.rows:>{width},} rows: {_mib(m.peak_kib):>10}   ({_mib(m.before_kib)} "
                f"before the import, {(m.peak_kib - m.before_kib) / 1024:+,.1f} MiB during it; "
                f"{m.rows / m.seconds:,.0f} rows/s)"
            )
        small, large = run.memory[0], run.memory[-1]
        lines.append(
            f"    growth of the peak for {large.rows / small.rows:.0f}x the rows: "
            f"{(large.peak_kib - small.peak_kib) / 1024:+,.1f} MiB"
        )
    return "\n".join(lines)


def run(*, rows: int, seed: int, repeats: int, memory: bool = True) -> tuple[ConsentRun, str]:
    """Measure the import against the CSV + sqlite3 floor, then its peak memory at rows/10 and
    at `rows` (each in a fresh process); returns what was measured and its report."""
    with tempfile.TemporaryDirectory(prefix="engage-bench-csv-") as directory:
        generated = write_csv(Path(directory) / "subscriptions.csv", rows=rows, seed=seed)
        seen = _Seen()
        contenders = [
            Contender(SUBJECT, lambda: _import_trial(generated.path, seen)),
            Contender(RAW, lambda: _raw_trial(generated.path, seed)),
        ]
        result = measure("consent", "rows/s", contenders, repeats)
        peaks: tuple[PeakMemory, ...] = ()
        if memory:
            tenth = write_csv(Path(directory) / "tenth.csv", rows=max(1, rows // 10), seed=seed)
            peaks = (peak_memory(tenth.path), peak_memory(generated.path))
    done = ConsentRun(result, generated, tuple(seen.imports), tuple(seen.stored), peaks)
    return done, _report(done, seed=seed, repeats=repeats)


def profile(*, rows: int, seed: int) -> str:
    """cProfile's top 20 of one import (at most `PROFILE_ROWS` rows)."""
    rows = min(rows, PROFILE_ROWS)
    with tempfile.TemporaryDirectory(prefix="engage-bench-csv-") as directory:
        generated = write_csv(Path(directory) / "subscriptions.csv", rows=rows, seed=seed)
        with _import_trial(generated.path, _Seen()) as timed:
            report = profile_call(timed)
    return f"consent profile, {SUBJECT}, {rows:,} rows:\n{report}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.consent_import",
        description="The memory probe of `python -m benchmarks --only consent`: import one "
        "CSV file into a fresh database here and print peak RSS as JSON.",
    )
    parser.add_argument("--child", nargs=2, metavar=("CSV", "DIRECTORY"), required=True)
    args = parser.parse_args(argv)
    csv_path, directory = (Path(name) for name in args.child)
    print(json.dumps(_child(csv_path, directory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
