"""The "postgres" benchmark runs end to end at its smallest, on the suite's PostgreSQL server:
ingest against COPY, one process against two (overlapping and disjoint), and the projection
lag with a LISTEN-woken follower. Structure only: speed is measured by `python -m benchmarks
--only postgres`, never asserted here (timings on a shared VM are noise)."""

from __future__ import annotations

import math

from benchmarks import postgres
from benchmarks.postgres import APPLICATION, COPY
from benchmarks.postgres_lag import percentile
from benchmarks.postgres_processes import share

OBSERVATIONS = 2_000  # two batches of 1,000


def test_the_workload_runs_and_every_figure_is_there(postgres_superuser_url: str) -> None:
    done, text = postgres.run(
        observations=OBSERVATIONS, seed=1, repeats=1, seconds=0.5,
        superuser_url=postgres_superuser_url, process_counts=(1, 2),
    )  # fmt: skip

    rates = done.ingest.rates
    assert set(rates) == {APPLICATION, COPY}
    assert all(len(per_round) == 1 and per_round[0] > 0 for per_round in rates.values())

    processes = done.processes
    names = {"1 process", "2 processes, overlapping", "2 processes, disjoint"}
    assert set(processes.result.rates) == names
    assert all(rates[0] > 0 for rates in processes.result.rates.values())
    # every process saves each of its batches of up to 1,000 once
    disjoint = [share(1, OBSERVATIONS, 2, index, disjoint=True) for index in (0, 1)]
    batches = sum(math.ceil(len(mine) / 1_000) for mine in disjoint)
    assert [saves for _, saves in processes.counts["1 process"]] == [2]
    assert [saves for _, saves in processes.counts["2 processes, overlapping"]] == [2]
    assert processes.counts["2 processes, disjoint"] == ((0, batches),)  # no message shared

    # a second lag run, at half the follower's rate, only when it fell behind the first
    assert [lag.fell_behind for lag in done.lags[:-1]] == [True] * (len(done.lags) - 1)
    assert len(done.lags) in {1, 2}
    for lag in done.lags:
        assert lag.batches == 5  # 0.5 s of batches every 0.1 s
        assert lag.batches_seen == lag.batches  # every batch reached the outbox
        assert len(lag.lags) >= lag.per_batch * lag.batches  # a row at least per report
        assert percentile(list(lag.lags), 0.5) <= percentile(list(lag.lags), 0.99)
        assert lag.drained >= lag.seconds > 0

    assert "goal >= 0.4x" in text
    assert "retries per save" in text
    assert "p99" in text
    assert "MISSING" not in text


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0
