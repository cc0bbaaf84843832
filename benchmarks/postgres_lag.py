"""Part 3 of workload "postgres": how long after a save commits its outbox rows are there,
under sustained load, with the outbox kept by a catch-up loop in another process.

The load is open loop: every `INTERVAL` seconds a batch of new SMS messages' first reports
(`sent`) is saved by an application in the benchmark's process, at the rate asked (half the
single-process ingest rate), whatever the saves before it took. Each batch's messages carry
its number in their provider message ids, and the moment its `observe()` returned (committed)
is noted. The follower, a process of its own, LISTENs on the events table's channel (the one
eventsourcing's insert NOTIFYs, `recorder.channel_name`); woken, it catches the outbox up
(`adapters.views.catch_up`), notes the time, and reads the rows that came in. A row's lag is
that time less its batch's commit; both clocks are `time.monotonic()`, which is one clock for
every process on Linux.
"""

from __future__ import annotations

import cProfile
import io
import math
import multiprocessing
import pstats
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import attrs
import psycopg
from psycopg.sql import SQL, Identifier

from adapters.stores import store_env
from adapters.views import OutboxEntry, Views, catch_up
from engage_core.application import EngageApplication
from engage_core.observations import Observation

__all__ = ["INTERVAL", "Lag", "follower_profile", "measure_lag", "percentile"]

INTERVAL = 0.1  # seconds between batches
Scratch = Callable[[str], AbstractContextManager[str]]
_PREFIX = "L"
_WAKE_TIMEOUT = 0.2  # the follower also looks this often without a notification


def percentile(values: list[float], q: float) -> float:
    """Nearest rank of sorted `values` (q in (0, 1])."""
    return values[min(len(values), max(1, math.ceil(q * len(values)))) - 1]


def _batch_of(entry: OutboxEntry) -> int:
    provider_message_id = str(entry.body["properties"]["provider_message_id"])
    return int(provider_message_id[len(_PREFIX) :].split("-", 1)[0])


def _follow(url: str, ready: Any, stop: Any, results: Any) -> None:
    """The follower: LISTEN, catch the outbox up when woken, note when each row came in; once
    told to stop, one last catch-up, then report [(batch, seconds)]."""
    app = EngageApplication(env=store_env(url))
    views = Views(url)
    outbox = views.outbox
    catch_up(app, [outbox])
    position = outbox.last_position()
    seen: list[tuple[int, float]] = []
    channel = Identifier(app.recorder.channel_name)  # type: ignore[attr-defined]
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(SQL("LISTEN {}").format(channel))
        ready.set()
        while True:
            stopping = stop.is_set()  # read first: the pass after it sees every commit
            for _ in listener.notifies(timeout=_WAKE_TIMEOUT, stop_after=1):
                pass
            catch_up(app, [outbox])
            now = time.monotonic()
            for entry in outbox.entries(after=position):
                seen.append((_batch_of(entry), now))
                position = entry.position
            if stopping:
                break
    results.put(seen)
    views.close()
    app.close()


@attrs.frozen
class Lag:
    """The lag part's figures at one rate."""

    rate: float  # events/s asked
    per_batch: int
    batches: int
    seconds: float  # from the load's start to the last commit
    drained: float  # from the load's start to the last outbox row seen
    behind: float  # the most the writer was behind its schedule, seconds
    lags: tuple[float, ...]  # per outbox row, sorted
    batches_seen: int  # batches with at least one outbox row

    @property
    def events(self) -> int:
        return self.per_batch * self.batches

    @property
    def follower_rate(self) -> float:
        """Events/s the follower applied, from the load's start to its last row."""
        return self.events / self.drained if self.drained > 0 else 0.0

    @property
    def fell_behind(self) -> bool:
        """Whether the follower was still catching up well after the load ended (a second
        later than its usual wake-up), so the lag grew with the load's length."""
        return self.drained - self.seconds > 1.0 + _WAKE_TIMEOUT

    def report(self, why: str) -> str:
        lines = [
            f"postgres projection lag at {self.rate:,.0f} events/s ({why}): {self.per_batch:,} new "
            f"messages' first reports every {INTERVAL:g} s; the outbox kept by a catch-up loop "
            "in another process, woken by LISTEN",
            f"  saved {self.events:,} events in {self.seconds:.1f} s "
            f"({self.events / self.seconds:,.0f}/s), the writer at most "
            f"{self.behind * 1000:.0f} ms behind its schedule; the last outbox row "
            f"{self.drained - self.seconds:.1f} s after the last commit (the follower applied "
            f"{self.follower_rate:,.0f} events/s"
            + (", falling behind: the lag grew with the load's length)" if self.fell_behind
               else ", keeping up)"),
            f"  outbox rows {len(self.lags):,}, from {self.batches_seen} of {self.batches} batches"
            + ("" if self.batches_seen == self.batches else "  MISSING ROWS"),
        ]  # fmt: skip
        if self.lags:
            lags = list(self.lags)
            lines.append(
                f"  commit to outbox row: p50 {percentile(lags, 0.5) * 1000:,.1f} ms, p99 "
                f"{percentile(lags, 0.99) * 1000:,.1f} ms, max {lags[-1] * 1000:,.1f} ms"
            )
        return "\n".join(lines)


def _load(app: EngageApplication, batches: list[list[Observation]]) -> tuple[list[float], float]:
    """Save each batch at its time; (each batch's commit time, the most it was behind)."""
    committed: list[float] = []
    behind = 0.0
    start = time.monotonic()
    for index, batch in enumerate(batches):
        pause = start + index * INTERVAL - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            behind = max(behind, -pause)
        app.observe(batch)
        committed.append(time.monotonic())
    return committed, behind


def measure_lag(superuser_url: str, scratch: Scratch, *, rate: float, seconds: float) -> Lag:
    """`rate` events/s for `seconds` on a fresh database, the follower in its own process."""
    per_batch = max(1, round(rate * INTERVAL))
    count = max(1, round(seconds / INTERVAL))
    batches = [
        [Observation.create("sms", "twilio", f"{_PREFIX}{b:06d}-{k:05d}", "sent", event_id="s")
         for k in range(per_batch)]
        for b in range(count)
    ]  # fmt: skip
    context = multiprocessing.get_context("spawn")
    with scratch(superuser_url) as url:
        app = EngageApplication(env=store_env(url))
        ready, stop, results = context.Event(), context.Event(), context.Queue()
        follower = context.Process(target=_follow, args=(url, ready, stop, results))
        follower.start()
        try:
            if not ready.wait(timeout=300):
                raise RuntimeError(f"the follower did not start (exit code {follower.exitcode})")
            started = time.monotonic()
            committed, behind = _load(app, batches)
            elapsed = committed[-1] - started
            stop.set()
            seen: list[tuple[int, float]] = results.get(timeout=3600)
        finally:
            stop.set()
            follower.join(timeout=60)
            if follower.is_alive():
                follower.kill()
            app.close()
    lags = tuple(sorted(moment - committed[batch] for batch, moment in seen))
    drained = max((moment for _, moment in seen), default=started) - started
    return Lag(rate, per_batch, count, elapsed, drained, behind, lags, len({b for b, _ in seen}))


def follower_profile(url: str, *, top: int = 20) -> str:
    """cProfile's top `top` (cumulative) of the follower's work alone: the outbox, dropped,
    caught up over everything the store at `url` holds, in this process."""
    app = EngageApplication(env=store_env(url))
    views = Views(url)
    try:
        views.outbox.drop()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        events = profiler.runcall(catch_up, app, [views.outbox])
        seconds = time.perf_counter() - started
    finally:
        views.close()
        app.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)
    heading = (
        f"outbox catch-up profile: {events:,} events from position 0 in {seconds:.2f} s "
        f"profiled ({events / seconds:,.0f} events/s)"
    )
    return f"{heading}\n{out.getvalue()}"
