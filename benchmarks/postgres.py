"""Workload "postgres": Engage on one PostgreSQL server, in three parts.

1. **Ingest against COPY.** `EngageApplication.observe()` in batches of 1,000 on a PostgreSQL
   store (`adapters.stores`, as `engage --store postgresql://…` runs), against psycopg's
   binary `COPY` of the very rows the application stores into a table like eventsourcing's
   (same columns, primary key and notification-id index), one transaction per 1,000 rows. Every
   round of either gets a fresh database; rounds rotate as in every workload, best credited.
   Goal: the application at least 0.40 of COPY.
2. **Processes** (`benchmarks.postgres_processes`): the same observations ingested by 1, 2
   and 4 processes at once into one database: events/s, and saves decided again per save.
3. **Projection lag** (`benchmarks.postgres_lag`): sustained load at half the single-process
   rate of part 1, and the outbox kept by a catch-up loop in another process woken by
   PostgreSQL's LISTEN: p50 and p99 seconds from a save's commit to its outbox rows. When the
   follower cannot keep up with that load (its lag then grows with the load's length, so the
   percentiles say how long the load lasted), once more at half the rate it did apply.

The server is a private one started as the test suite starts its own (`initdb` into a
temporary directory, 127.0.0.1, `fsync=off`), or the one `ENGAGE_BENCH_POSTGRES_URL` names (a
superuser URL without a query: each round creates a database there and drops it afterwards).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

import attrs
import psycopg
from psycopg import sql

from adapters.stores import store_env
from benchmarks.harness import Contender, Goal, Result, Run, format_result, measure
from benchmarks.ingest import BATCH, Row, phase_times, stored_rows
from benchmarks.postgres_lag import Lag, follower_profile, measure_lag
from benchmarks.postgres_processes import PROCESS_COUNTS, Processes, measure_processes
from benchmarks.traffic import observation_stream
from engage_core.application import EngageApplication
from engage_core.observations import Observation

__all__ = ["APPLICATION", "COPY", "GOALS", "Measured", "profile", "run", "server"]

APPLICATION = "observe, postgresql store"
COPY = "psycopg COPY"
GOALS = (Goal(APPLICATION, COPY, 0.4),)
URL_VARIABLE = "ENGAGE_BENCH_POSTGRES_URL"
FULL_SECONDS, QUICK_SECONDS = 20.0, 3.0  # of the lag part's sustained load

# eventsourcing's PostgreSQL application table, as it creates it
RAW_TABLE = (
    "CREATE TABLE raw_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
    "topic text, state bytea, notification_id bigserial, "
    "PRIMARY KEY (originator_id, originator_version))",
    "CREATE UNIQUE INDEX raw_events_notification_id_idx ON raw_events (notification_id ASC)",
)
RAW_COPY = (
    "COPY raw_events (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
)
CopyRow = tuple[UUID, int, str, bytes]
_LAG_RATES = ("half the single-process ingest rate", "half the rate the follower applied")


@contextmanager
def server() -> Iterator[str]:
    """A superuser URL: `ENGAGE_BENCH_POSTGRES_URL`, else a private server for the block."""
    given = os.environ.get(URL_VARIABLE, "").strip()
    if given:
        yield given
        return
    from tests.postgres_server import postgres_server  # the suite's way of starting one

    with postgres_server() as url:
        yield url


@contextmanager
def scratch_database(superuser_url: str) -> Iterator[str]:
    """A new empty database for the block, dropped afterwards (its connections with it)."""
    from tests.postgres_server import fresh_database

    url = fresh_database(superuser_url)
    try:
        yield url
    finally:
        with psycopg.connect(superuser_url, autocommit=True) as connection:
            name = sql.Identifier(url.rsplit("/", 1)[1])
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@contextmanager
def application_trial(
    superuser_url: str,
    batches: Sequence[Sequence[Observation]],
    instrument: Callable[[EngageApplication], None] = lambda app: None,
) -> Iterator[Run]:
    """A fresh database and application (its tables made untimed), fresh copies of the
    observations (their ids and dedup keys computed in the timed call, as for parsed input)."""
    fresh = [[attrs.evolve(observation) for observation in batch] for batch in batches]
    with scratch_database(superuser_url) as url:
        app = EngageApplication(env=store_env(url))
        instrument(app)

        def run() -> int:
            return sum(app.observe(batch).received for batch in fresh)

        try:
            yield run
        finally:
            app.close()


@contextmanager
def copy_trial(superuser_url: str, chunks: Sequence[Sequence[CopyRow]]) -> Iterator[Run]:
    """A fresh database holding an empty copy of eventsourcing's table; the timed call copies
    the rows in, one transaction per chunk."""
    with scratch_database(superuser_url) as url, psycopg.connect(url) as connection:
        for statement in RAW_TABLE:
            connection.execute(statement)
        connection.commit()

        def run() -> int:
            for chunk in chunks:
                with connection.cursor() as cursor, cursor.copy(RAW_COPY) as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for row in chunk:
                        copy.write_row(row)
                connection.commit()
            return sum(len(chunk) for chunk in chunks)

        yield run


def copy_rows(rows: Sequence[Row]) -> list[CopyRow]:
    return [(UUID(hex=row[0]), row[1], row[2], row[3]) for row in rows]


def measure_ingest(superuser_url: str, *, observations: int, seed: int, repeats: int) -> Result:
    stream = observation_stream(seed, observations)
    batches = stream.batches(BATCH)
    rows = copy_rows(stored_rows(stream))
    chunks = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    contenders = [
        Contender(APPLICATION, lambda: application_trial(superuser_url, batches)),
        Contender(COPY, lambda: copy_trial(superuser_url, chunks)),
    ]
    return measure("postgres ingest", "events/s", contenders, repeats)


@attrs.frozen
class Measured:
    """The three parts' figures."""

    ingest: Result
    processes: Processes
    lags: tuple[Lag, ...]  # at half the ingest rate; then at half the follower's, if behind


def _server_settings(superuser_url: str) -> str:
    with psycopg.connect(superuser_url, autocommit=True) as connection:
        shown = [
            str((connection.execute(f"SHOW {name}").fetchone() or ("?",))[0])
            for name in ("server_version", "fsync", "synchronous_commit")
        ]
    return f"PostgreSQL {shown[0]}, fsync {shown[1]}, synchronous_commit {shown[2]}"


def run(
    *,
    observations: int,
    seed: int,
    repeats: int,
    seconds: float,
    superuser_url: str | None = None,
    process_counts: Sequence[int] = PROCESS_COUNTS,
) -> tuple[Measured, str]:
    """All three parts on one server (`superuser_url`, else `server()`); the report."""
    if superuser_url is None:
        with server() as url:
            return run(observations=observations, seed=seed, repeats=repeats, seconds=seconds,
                       superuser_url=url, process_counts=process_counts)  # fmt: skip
    ingest = measure_ingest(superuser_url, observations=observations, seed=seed, repeats=repeats)
    processes = measure_processes(
        superuser_url, scratch_database, observations=observations, seed=seed, repeats=repeats,
        counts=process_counts,
    )  # fmt: skip
    lags = [measure_lag(superuser_url, scratch_database, rate=ingest.best(APPLICATION) / 2,
                        seconds=seconds)]  # fmt: skip
    if lags[0].fell_behind:
        lags.append(measure_lag(superuser_url, scratch_database,
                                rate=lags[0].follower_rate / 2, seconds=seconds))  # fmt: skip
    stream = observation_stream(seed, observations)
    heading = (
        f"postgres ingest: {len(stream):,} observations of {stream.message_count:,} messages "
        f"in batches of {BATCH:,}, one save (one transaction) each, seed {seed}, best of "
        f"{repeats}; {_server_settings(superuser_url)}"
    )
    text = "\n\n".join([
        format_result(ingest, GOALS, heading=heading),
        processes.report(),
        *[lag.report(why) for lag, why in zip(lags, _LAG_RATES, strict=False)],
    ])  # fmt: skip
    return Measured(ingest, processes, tuple(lags)), text


def phases(superuser_url: str, *, observations: int, seed: int, rounds: int = 3) -> str:
    """Wall time per event in each phase of an application round (the fastest of `rounds`),
    from wrappers on the application's own objects (`benchmarks.ingest.phase_times`, about
    0.3 µs per event): cProfile inflates call-heavy Python, these do not."""
    batches = observation_stream(seed, observations).batches(BATCH)
    us = phase_times(
        lambda instrument: application_trial(superuser_url, batches, instrument),
        observations=observations, rounds=rounds, loads=True,
    )  # fmt: skip
    split = [
        ("observe(), in all", us["observe"]),
        ("  read the batch's messages (one query)", us["load"]),
        ("  route, decide, fold", us["observe"] - us["save"] - us["load"]),
        ("  save(): map events to rows (cattrs, orjson)", us["map"]),
        ("  save(): insert and commit (recorder)", us["insert"]),
        ("  save(): eventsourcing's own bookkeeping", us["save"] - us["map"] - us["insert"]),
    ]
    lines = [f"postgres ingest phases, {APPLICATION}, {observations:,} observations, µs/event:"]
    lines += [f"  {label:<48}{value:6.2f}" for label, value in split]
    return "\n".join(lines)


def profile(*, observations: int, seed: int, superuser_url: str | None = None) -> str:
    """Phases, then cProfile's top 20 of one application round of the ingest part, by
    cumulative time and by own time (where the time goes, when the goal is missed), then the
    outbox follower's work alone over the same events."""
    if superuser_url is None:
        with server() as url:
            return profile(observations=observations, seed=seed, superuser_url=url)
    batches = observation_stream(seed, observations).batches(BATCH)
    fresh = [[attrs.evolve(observation) for observation in batch] for batch in batches]
    profiler = cProfile.Profile()
    with scratch_database(superuser_url) as url:
        app = EngageApplication(env=store_env(url))
        profiler.runcall(lambda: [app.observe(batch) for batch in fresh])
        app.close()
        follower = follower_profile(url)  # the outbox over the events just ingested
    reports = [phases(superuser_url, observations=observations, seed=seed)]
    for order in (pstats.SortKey.CUMULATIVE, pstats.SortKey.TIME):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(20)
        reports.append(f"cProfile by {order.value}:\n{out.getvalue()}")
    heading = f"postgres ingest profile, {APPLICATION}, {observations:,} observations"
    return "\n\n".join([heading, *reports, follower])
