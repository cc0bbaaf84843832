"""The "service" benchmark runs end to end at its smallest: a real `engage serve` on 127.0.0.1
with one worker and with two, signed SendGrid batches and an open-loop run of signed Twilio
callbacks. Structure only: speed is measured by `python -m benchmarks --only service`, never
asserted here (timings on a shared VM are noise)."""

from __future__ import annotations

import pytest

from benchmarks import service
from benchmarks.service import IN_PROCESS, served_name

EVENTS = 2_000  # two requests of 1,000
SECONDS = 0.5
RATE = 20.0

pytest.importorskip("uvicorn", reason="engage serve needs the server extra")


def test_the_workload_runs_and_every_request_is_answered_200() -> None:
    done, text = service.run(observations=EVENTS, seed=1, repeats=1, seconds=SECONDS, rate=RATE)

    rates = done.throughput.rates
    assert set(rates) == {IN_PROCESS, served_name(1), served_name(2)}
    assert all(len(per_round) == 1 and per_round[0] > 0 for per_round in rates.values())

    assert [m.workers for m in done.latencies] == [1, 2]
    for measured in done.latencies:
        loop = measured.run
        assert len(loop.answers) == int(SECONDS * RATE)
        assert measured.statuses == {200: len(loop.answers)}
        assert measured.quarantined == 0
        assert all(a.report.get("received") == 1 for a in loop.answers)
        assert all(latency > 0 for latency in loop.latencies)
        assert 0 < loop.percentile(0.5) <= loop.percentile(0.99) <= max(loop.latencies)
        assert measured.healthz
        assert all(seconds > 0 for seconds in measured.healthz)
    assert done.in_process
    assert all(seconds > 0 for seconds in done.in_process)

    assert "events/s" in text
    assert "p99" in text
    assert text.count("goal") == 2 + 2 + 2  # two ratios, two rates, two p99s


def test_open_loop_percentiles_are_nearest_rank() -> None:
    from benchmarks.service_load import percentile

    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0
