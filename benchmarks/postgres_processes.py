"""Part 2 of workload "postgres": the same observations ingested by 1, 2 and 4 processes at once
into one PostgreSQL database, events/s and saves decided again per save.

How the observations are shared out:
- **overlapping**: observation *i* goes to process *i* mod *P*, so every process's *k*-th batch
  of 1,000 holds reports of the same messages, and the processes keep saving the same messages
  at the same moment: conflicts are frequent, the worst case for optimistic concurrency;
- **disjoint**: each message's observations go to one process (by message id), so no two
  processes save the same message: what more processes give when nothing conflicts.

Each process is spawned, opens the store and builds its share (fresh observations, their ids
and dedup keys computed in the timed call, as for parsed input) before the timed call, which
releases them together and ends when the last is done. Every round gets a fresh database whose
tables were made beforehand. A conflicting save is decided again (`engage_core.saving`), and
each process reports how often (`save_retries`).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs

from adapters.stores import store_env
from benchmarks.harness import Contender, Result, Run, measure
from benchmarks.ingest import BATCH
from benchmarks.traffic import observation_stream
from engage_core.application import EngageApplication
from engage_core.observations import Observation
from engage_core.saving import save_retries

__all__ = ["PROCESS_COUNTS", "Processes", "contender_name", "measure_processes", "share"]

PROCESS_COUNTS = (1, 2, 4)
Scratch = Callable[[str], AbstractContextManager[str]]  # a fresh database's URL for a block
_STARTUP_SECONDS = 300  # a spawned process imports everything and builds its share


def contender_name(processes: int, disjoint: bool) -> str:
    if processes == 1:
        return "1 process"
    return f"{processes} processes, {'disjoint' if disjoint else 'overlapping'}"


def share(
    seed: int, observations: int, processes: int, index: int, *, disjoint: bool
) -> list[Observation]:
    """Process `index`'s observations, fresh copies, in arrival order."""
    stream = observation_stream(seed, observations)
    if disjoint:
        pairs = zip(stream.message_ids, stream.observations, strict=True)
        chosen = [o for message, o in pairs if message.int % processes == index]
    else:
        chosen = [o for n, o in enumerate(stream.observations) if n % processes == index]
    return [attrs.evolve(observation) for observation in chosen]


def _ingest(
    url: str, seed: int, observations: int, processes: int, index: int, disjoint: bool,
    ready: Any, go: Any, results: Any,
) -> None:  # fmt: skip
    """One process: ready its application and share, wait for the go, ingest, report
    (index, events, retries, saves)."""
    app = EngageApplication(env=store_env(url))
    mine = share(seed, observations, processes, index, disjoint=disjoint)
    batches = [mine[i : i + BATCH] for i in range(0, len(mine), BATCH)]
    ready.put(index)
    go.wait()
    received = sum(app.observe(batch).received for batch in batches)
    results.put((index, received, save_retries(), len(batches)))
    app.close()


@contextmanager
def _trial(
    superuser_url: str,
    scratch: Scratch,
    sizes: tuple[int, int],  # (seed, observations)
    processes: int,
    disjoint: bool,
    counts: list[tuple[int, int]],
) -> Iterator[Run]:
    """Fresh database, processes started and ready; the timed call lets them go and waits for
    the last. Each round's (retries, saves) is appended to `counts`."""
    context = multiprocessing.get_context("spawn")
    with scratch(superuser_url) as url:
        EngageApplication(env=store_env(url)).close()  # the tables, made once and untimed
        ready, results, go = context.Queue(), context.Queue(), context.Event()
        workers = [
            context.Process(
                target=_ingest, args=(url, *sizes, processes, index, disjoint, ready, go, results)
            )
            for index in range(processes)
        ]
        for worker in workers:
            worker.start()
        try:
            for _ in workers:
                ready.get(timeout=_STARTUP_SECONDS)

            def run() -> int:
                go.set()
                reports = [results.get(timeout=3600) for _ in workers]
                counts.append((sum(r[2] for r in reports), sum(r[3] for r in reports)))
                return sum(r[1] for r in reports)

            yield run
        except queue.Empty:
            codes = [worker.exitcode for worker in workers]
            raise RuntimeError(f"an ingest process did not answer (exit codes {codes})") from None
        finally:
            for worker in workers:
                worker.join(timeout=60)
                if worker.is_alive():
                    worker.kill()


@attrs.frozen
class Processes:
    """Every round's rate per contender, and its (retries, saves)."""

    result: Result
    counts: Mapping[str, tuple[tuple[int, int], ...]]
    observations: int

    def retries_per_save(self, name: str) -> float:
        rounds = self.counts[name]
        return sum(r for r, _ in rounds) / max(1, sum(s for _, s in rounds))

    def report(self) -> str:
        rounds = len(next(iter(self.result.rates.values())))
        lines = [
            f"postgres processes: the same {self.observations:,} observations shared out among "
            f"1, 2 and 4 processes on one database (batches of {BATCH:,} each), best of {rounds}"
        ]
        single = contender_name(1, False)
        width = max(len(name) for name in self.result.rates) + 2
        for name, rates in self.result.rates.items():
            retried = sum(r for r, _ in self.counts[name])
            saves = sum(s for _, s in self.counts[name])
            lines.append(
                f"  {name:<{width}}{max(rates):>10,.0f} events/s (rounds {min(rates):,.0f} to "
                f"{max(rates):,.0f}), {self.result.ratio(name, single):.2f}x of 1 process; "
                f"retries per save {self.retries_per_save(name):.2f} ({retried} of {saves})"
            )
        return "\n".join(lines)


def measure_processes(
    superuser_url: str, scratch: Scratch, *, observations: int, seed: int, repeats: int,
    counts: Sequence[int] = PROCESS_COUNTS,
) -> Processes:  # fmt: skip
    """1 process, then each larger count overlapping and disjoint; rounds rotate."""
    plan = [(1, False)] + [(n, disjoint) for disjoint in (False, True) for n in counts if n > 1]
    per_contender: dict[str, list[tuple[int, int]]] = {}
    contenders = []
    for processes, disjoint in plan:
        name = contender_name(processes, disjoint)
        kept = per_contender.setdefault(name, [])

        def trial(p: int = processes, d: bool = disjoint, k: list[tuple[int, int]] = kept) -> Any:
            return _trial(superuser_url, scratch, (seed, observations), p, d, k)

        contenders.append(Contender(name, trial))
    result = measure("postgres processes", "events/s", contenders, repeats)
    frozen = {name: tuple(kept) for name, kept in per_contender.items()}
    return Processes(result, frozen, observations)
