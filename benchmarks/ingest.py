"""Workload "ingest": `EngageApplication.observe()` into a SQLite file, against raw sqlite3.

The subject is the whole write path a batch of provider reports takes: route each input to its
message (a uuid5, remembered per process), load the batch's messages, decide and fold, map every
event to a stored row (generated dict builders + orjson), and one `save()` per batch of 1,000
observations, one transaction on a WAL-mode file. Every round gets fresh copies of the
observations, so the ids and dedup keys the inputs cache are computed inside the timed call, as
they are for inputs just parsed.

It runs in two configurations: the one `engage --store sqlite:///…` uses (`adapters.stores`:
a recorder that reads a batch's messages in one query and inserts with `executemany`), which
the goal is checked on, and eventsourcing's stock SQLite recorder (one query per message, one
`INSERT` per row), the plain `PERSISTENCE_MODULE`/`SQLITE_DBNAME` environment.

The baseline is the physical limit of the same file format: sqlite3 `executemany` of the very
rows the application stores (eventsourcing's `stored_events` table, same topics and state blobs,
computed untimed beforehand), WAL mode, synchronous FULL, one transaction per 1,000 rows. The
goal asks the application to keep at least 40% of that rate. Every round of every contender
writes a fresh database file in a fresh temporary directory.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.sqlite import SQLiteApplicationRecorder

from adapters.stores import store_env
from benchmarks.harness import (
    Contender,
    Goal,
    Result,
    Run,
    format_result,
    measure,
    profile_call,
)
from benchmarks.traffic import Stream, observation_stream
from engage_core.application import EngageApplication
from engage_core.ids import forget_message_ids
from engage_core.message.decide import decide_observation
from engage_core.message.evolve import evolve
from engage_core.message.state import MessageState
from engage_core.observations import Observation
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder

APPLICATION = "observe, engage store"
STOCK = "observe, stock recorder"
RAW = "sqlite3 executemany"
GOALS = (Goal(APPLICATION, RAW, 0.4), Goal(STOCK, RAW, 0.4))
BATCH = 1_000

# eventsourcing's SQLiteApplicationRecorder table, as it creates it (a rowid table: the rowid is
# the notification id).
CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS stored_events ("
    "originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
    "PRIMARY KEY (originator_id, originator_version))"
)
INSERT = "INSERT INTO stored_events VALUES (?,?,?,?)"

Row = tuple[str, int, str, bytes]


def stored_rows(stream: Stream) -> list[Row]:
    """The rows the application stores for `stream`, decided and mapped as it would.

    The decision time is the real clock's, as the application's is: its microseconds are part
    of every stored blob.
    """
    mapper: CattrsMapper = CattrsMapper(transcoder=OrjsonTranscoder())
    recorded_at = datetime.now(UTC)
    states: dict[UUID, MessageState] = {}
    rows: list[Row] = []
    for message_id, observation in stream.routed():
        state = states.get(message_id)
        decided = decide_observation(state, observation, recorded_at=recorded_at)
        states[message_id] = evolve(state, decided)
        stored = mapper.to_stored_event(decided)
        rows.append((message_id.hex, stored.originator_version, stored.topic, stored.state))
    return rows


@contextmanager
def fresh_database() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        yield Path(directory) / "events.db"


def engage_store_env(path: Path) -> dict[str, str]:
    """What `engage --store sqlite:///<path>` runs with."""
    return store_env(f"sqlite:///{path}")


def stock_env(path: Path) -> dict[str, str]:
    """eventsourcing's own SQLite recorder."""
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


@contextmanager
def _application_trial(
    env_for: Callable[[Path], dict[str, str]],
    batches: Sequence[Sequence[Observation]],
    instrument: Callable[[EngageApplication], None] = lambda app: None,
) -> Iterator[Run]:
    fresh = [[attrs.evolve(observation) for observation in batch] for batch in batches]
    with fresh_database() as path:
        app = EngageApplication(env=env_for(path))
        if not isinstance(app.recorder, SQLiteApplicationRecorder):
            raise RuntimeError(
                f"expected a SQLite recorder, got {type(app.recorder).__name__}: is "
                "PERSISTENCE_MODULE set in the environment? (it overrides the benchmark's)"
            )
        instrument(app)
        forget_message_ids()  # every round sees its messages for the first time, as traffic does

        def run() -> int:
            return sum(app.observe(batch).received for batch in fresh)

        try:
            yield run
        finally:
            app.close()


@contextmanager
def raw_trial(chunks: Sequence[Sequence[Row]]) -> Iterator[Run]:
    with fresh_database() as path:
        connection = sqlite3.connect(path, isolation_level=None)  # explicit transactions
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(CREATE_TABLE)

        def run() -> int:
            for chunk in chunks:
                connection.execute("BEGIN")
                connection.executemany(INSERT, chunk)
                connection.execute("COMMIT")
            return sum(len(chunk) for chunk in chunks)

        try:
            yield run
        finally:
            connection.close()


def run(*, observations: int, seed: int, repeats: int) -> tuple[Result, str]:
    """Measure the application against raw inserts; returns the result and its report."""
    stream = observation_stream(seed, observations)
    batches = stream.batches(BATCH)
    rows = stored_rows(stream)
    chunks = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    contenders = [
        Contender(APPLICATION, lambda: _application_trial(engage_store_env, batches)),
        Contender(STOCK, lambda: _application_trial(stock_env, batches)),
        Contender(RAW, lambda: raw_trial(chunks)),
    ]
    result = measure("ingest", "events/s", contenders, repeats)
    mean_state = sum(len(row[3]) for row in rows) / len(rows)
    heading = (
        f"ingest: {len(stream):,} observations of {stream.message_count:,} messages in batches "
        f"of {BATCH:,}, SQLite file (WAL, synchronous FULL), state blobs of "
        f"{mean_state:.0f} bytes on average, seed {seed}, best of {repeats}"
    )
    return result, format_result(result, GOALS, heading=heading)


class _Stopwatch:
    """Wall time per phase, from timing wrappers set on one application's own objects."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner: object, name: str, phase: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start

        setattr(owner, name, timed)  # an instance attribute: the class is left alone


Trial = Callable[[Callable[[EngageApplication], None]], AbstractContextManager[Run]]


def phase_times(
    trial: Trial, *, observations: int, rounds: int = 3, loads: bool = False
) -> dict[str, float]:
    """µs per event in each phase of the fastest of `rounds` application rounds, each run by
    `trial(instrument)`: wrappers around `observe`, `save`, the mapper and the recorder's
    insert (and, with `loads`, its `select_events_of_many`) cost ~0.3 µs per event and show
    the split in wall time, where cProfile inflates call-heavy code. Only eventsourcing's
    public names are wrapped."""
    fastest: dict[str, float] = {}
    for _ in range(rounds):
        watch = _Stopwatch()

        def instrument(app: EngageApplication, watch: _Stopwatch = watch) -> None:
            watch.wrap(app, "observe", "observe")
            watch.wrap(app, "save", "save")
            watch.wrap(app.mapper, "to_stored_event", "map")
            watch.wrap(app.recorder, "insert_events", "insert")
            if loads:
                watch.wrap(app.recorder, "select_events_of_many", "load")

        with trial(instrument) as timed:
            timed()
        if not fastest or watch.seconds["observe"] < fastest["observe"]:
            fastest = dict(watch.seconds)
    return {phase: seconds / observations * 1e6 for phase, seconds in fastest.items()}


def phases(*, observations: int, seed: int, rounds: int = 3) -> str:
    """Time per event in each phase of an application round (`phase_times`)."""
    batches = observation_stream(seed, observations).batches(BATCH)
    us = phase_times(
        lambda instrument: _application_trial(engage_store_env, batches, instrument),
        observations=observations, rounds=rounds,
    )  # fmt: skip
    split = [
        ("observe(), in all", us["observe"]),
        ("  before save(): route, load, decide, fold", us["observe"] - us["save"]),
        ("  save(): map events to rows (dict builders, orjson)", us["map"]),
        ("  save(): insert and commit (recorder)", us["insert"]),
        ("  save(): eventsourcing's own bookkeeping", us["save"] - us["map"] - us["insert"]),
    ]
    lines = [f"ingest phases, {APPLICATION}, {observations:,} observations, µs per event:"]
    lines += [f"  {label:<48}{value:6.2f}" for label, value in split]
    return "\n".join(lines)


def profile(*, observations: int, seed: int) -> str:
    """Where one application round spends its time: phases, then cProfile's top 20."""
    batches = observation_stream(seed, observations).batches(BATCH)
    with _application_trial(engage_store_env, batches) as timed:
        report = profile_call(timed)
    return (
        f"{phases(observations=observations, seed=seed)}\n\n"
        f"ingest profile, {APPLICATION}, {observations:,} observations:\n{report}"
    )
