"""Workload "destinations": the outbox delivered to a JSON Lines file and to a SQL table.

Setup, untimed: seeded provider traffic observed into a SQLite store and the outbox caught up.
The subjects are `adapters.destinations.delivery.deliver` for the JSONL destination (fsync per
batch of 1,000, as configured by default) and for the SQLite table destination (upsert by
messageId, one transaction per batch): read the outbox from the destination's cursor, encode,
write, advance the cursor in the views file. Each round delivers into fresh files.

The baselines are the floors of the same writes with nothing around them: the same JSON lines
appended to a file with an fsync per 1,000, and sqlite3 `executemany` of the same rows into the
same table, one transaction per 1,000. No goal is set by the issue; the ratios show what the
delivery machinery (cursor, ledger, batching, retries) costs on top of the write itself.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from adapters.destinations.delivery import RetryPolicy, deliver
from adapters.destinations.jsonl import JsonlDestination
from adapters.destinations.ledger import Ledger
from adapters.destinations.sql import SqliteTableDestination
from adapters.stores import store_env
from adapters.views import OutboxEntry, Views, catch_up
from benchmarks.harness import Contender, Result, Run, format_result, measure
from benchmarks.rebuild import write_log
from engage_core.application import EngageApplication

BATCH = 1_000
JSONL, JSONL_RAW = "deliver, JSONL", "write + fsync per 1,000"
SQL, SQL_RAW = "deliver, SQL table", "sqlite3 executemany"


def _outbox(directory: Path, observations: int, seed: int) -> tuple[Path, list[OutboxEntry]]:
    log = directory / "engage.db"
    write_log(log, observations=observations, seed=seed)
    views_path = directory / "engage.views.db"
    app = EngageApplication(env=store_env(f"sqlite:///{log}"))
    views = Views(str(views_path))
    catch_up(app, [views.outbox])
    entries = list(views.outbox.entries())
    views.close()
    app.close()
    return views_path, entries


@contextmanager
def _deliver_trial(views_path: Path, kind: str) -> Iterator[Run]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        copy = Path(directory) / "views.db"
        copy.write_bytes(views_path.read_bytes())  # a fresh ledger each round
        views = Views(str(copy))
        ledger = Ledger(views.datastore)
        destination = (
            JsonlDestination("jsonl", Path(directory) / "events.jsonl", batch_size=BATCH)
            if kind == "jsonl"
            else SqliteTableDestination("sql", Path(directory) / "warehouse.db", batch_size=BATCH)
        )
        try:
            yield lambda: deliver(destination, views.outbox, ledger, RetryPolicy()).delivered
        finally:
            destination.close()
            views.close()


@contextmanager
def _jsonl_raw(entries: list[OutboxEntry]) -> Iterator[Run]:
    lines = [orjson.dumps({**e.body, "position": e.position}) + b"\n" for e in entries]
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:

        def run() -> int:
            with open(Path(directory) / "events.jsonl", "ab") as file:
                for start in range(0, len(lines), BATCH):
                    file.write(b"".join(lines[start : start + BATCH]))
                    file.flush()
                    os.fsync(file.fileno())
            return len(lines)

        yield run


@contextmanager
def _sql_raw(entries: list[OutboxEntry]) -> Iterator[Run]:
    rows = [
        (e.message_id, e.position, e.event, e.body.get("userId"), e.body.get("anonymousId"),
         e.body["timestamp"], orjson.dumps(e.body["properties"]).decode(),
         orjson.dumps(e.body).decode())
        for e in entries
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        connection = sqlite3.connect(Path(directory) / "warehouse.db", isolation_level=None)
        connection.execute(
            "CREATE TABLE segment_events (message_id TEXT PRIMARY KEY, position INTEGER, "
            "event TEXT, user_id TEXT, anonymous_id TEXT, timestamp TEXT, properties TEXT, "
            "body TEXT)"
        )

        def run() -> int:
            for start in range(0, len(rows), BATCH):
                connection.execute("BEGIN")
                connection.executemany(
                    "INSERT INTO segment_events VALUES (?,?,?,?,?,?,?,?) ON CONFLICT "
                    "(message_id) DO UPDATE SET body = excluded.body",
                    rows[start : start + BATCH],
                )
                connection.execute("COMMIT")
            return len(rows)

        try:
            yield run
        finally:
            connection.close()


def run(*, observations: int, seed: int, repeats: int) -> tuple[Result, str]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        views_path, entries = _outbox(Path(directory), observations, seed)
        contenders = [
            Contender(JSONL, lambda: _deliver_trial(views_path, "jsonl")),
            Contender(JSONL_RAW, lambda: _jsonl_raw(entries)),
            Contender(SQL, lambda: _deliver_trial(views_path, "sql")),
            Contender(SQL_RAW, lambda: _sql_raw(entries)),
        ]
        result = measure("destinations", "events/s", contenders, repeats)
    heading = (
        f"destinations: {len(entries):,} outbox events ({observations:,} observations, "
        f"seed {seed}), batches of {BATCH:,}, best of {repeats}"
    )
    text = format_result(result, (), heading=heading)
    text += (
        f"\n  {JSONL} / {JSONL_RAW}: {result.ratio(JSONL, JSONL_RAW):.2f}x"
        f"\n  {SQL} / {SQL_RAW}: {result.ratio(SQL, SQL_RAW):.2f}x"
    )
    return result, text
