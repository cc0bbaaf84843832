"""Measure implementations of one workload against each other, in one process, as ratios.

The machines these run on are shared 2 vCPU VMs where an absolute timing moves by 10-20% from
one run to the next, so a figure in events/s says little on its own. What holds still is a ratio
taken in the same process over the same input: every contender of a workload runs once per
round, rounds are repeated, the contenders' order rotates from round to round (so none always
runs in the wake of another's garbage), and each contender is credited with its best round, the
one least disturbed by neighbours. Goals are stated and checked on ratios of those bests; the
per-round ratios are printed too, so the noise is visible next to the figure.

Setup and teardown (fresh database files, fresh copies of the inputs) happen outside the timed
call.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import attrs

T = TypeVar("T")
Run = Callable[[], int]  # the timed part: does the work, returns how many items it processed
Trial = Callable[[], AbstractContextManager[Run]]  # fresh, untimed setup around one Run


@attrs.frozen
class Contender:
    """One implementation of a workload. `trial()` sets up afresh and yields the timed call."""

    name: str
    trial: Trial


@attrs.frozen
class Goal:
    """`subject` must run at least `at_least` times as fast as `baseline`."""

    subject: str
    baseline: str
    at_least: float


@attrs.frozen
class Result:
    """Every round's rate (items/s) of every contender of one workload."""

    workload: str
    unit: str
    rates: Mapping[str, tuple[float, ...]]

    def best(self, name: str) -> float:
        return max(self.rates[name])

    def ratio(self, subject: str, baseline: str) -> float:
        """Best against best: the figure goals are checked on."""
        return self.best(subject) / self.best(baseline)

    def round_ratios(self, subject: str, baseline: str) -> tuple[float, ...]:
        """Ratio within each round: its spread shows how noisy the run was."""
        return tuple(s / b for s, b in zip(self.rates[subject], self.rates[baseline], strict=True))

    def met(self, goal: Goal) -> bool:
        return self.ratio(goal.subject, goal.baseline) >= goal.at_least


def reusing(run: Run) -> Trial:
    """A trial for a contender that needs no fresh setup between rounds."""

    @contextmanager
    def trial() -> Iterator[Run]:
        yield run

    return trial


def _timed(run: Run) -> float:
    gc.collect()
    start = time.perf_counter()
    items = run()
    elapsed = time.perf_counter() - start
    return items / elapsed


def measure(workload: str, unit: str, contenders: Sequence[Contender], repeats: int) -> Result:
    """Run every contender `repeats` times, interleaved round by round."""
    rates: dict[str, list[float]] = {c.name: [] for c in contenders}
    for round_number in range(repeats):
        shift = round_number % len(contenders)
        for contender in (*contenders[shift:], *contenders[:shift]):
            with contender.trial() as run:
                rates[contender.name].append(_timed(run))
    return Result(workload, unit, {name: tuple(r) for name, r in rates.items()})


def format_result(result: Result, goals: Sequence[Goal], *, heading: str) -> str:
    """A plain-text table: best rate and round range per contender, then each goal's ratio."""
    width = max(len(name) for name in result.rates) + 2
    lines = [heading]
    for name, rates in result.rates.items():
        lines.append(
            f"  {name:<{width}}{max(rates):>12,.0f} {result.unit}"
            f"   (rounds {min(rates):,.0f} to {max(rates):,.0f})"
        )
    for goal in goals:
        ratio = result.ratio(goal.subject, goal.baseline)
        per_round = result.round_ratios(goal.subject, goal.baseline)
        verdict = "met" if result.met(goal) else "MISSED"
        lines.append(
            f"  {goal.subject} / {goal.baseline}: {ratio:.2f}x"
            f"   (rounds {min(per_round):.2f} to {max(per_round):.2f})"
            f"   goal >= {goal.at_least:g}x: {verdict}"
        )
    return "\n".join(lines)


def profile_call(run: Run, *, top: int = 20) -> str:
    """cProfile one call of `run`: the `top` functions by cumulative time, as pstats prints them."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)
    return out.getvalue()


def peak_rss_kib() -> int:
    """This process's peak RSS so far, in KiB: `VmHWM` where Linux has it, else `ru_maxrss`.

    `ru_maxrss` is no good in a child of the benchmark: Linux carries the high-water mark of the
    memory a process had before `exec` over into the new program, and `subprocess` spawns with
    `vfork`, in the parent's memory, so a child's `ru_maxrss` starts at its parent's size
    (measured here: `python -c` started from a process holding 300 MiB reports a `ru_maxrss` of
    312 MiB and a `VmHWM` of 11 MiB).
    `VmHWM` belongs to the new program's memory alone.
    """
    found = proc_status_kib("VmHWM")
    return found if found is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def proc_status_kib(field: str) -> int | None:
    """One KiB figure of this process's `/proc/self/status` (`VmRSS`, `VmHWM`…); None where
    /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_during(work: Callable[[], T]) -> tuple[T, dict[str, float]]:
    """Run `work` and report this process's peak RSS before and after it, and its seconds (for
    a child process that runs only that work)."""
    before = peak_rss_kib()
    start = time.perf_counter()
    value = work()
    seconds = time.perf_counter() - start
    return value, {"before_kib": before, "peak_kib": peak_rss_kib(), "seconds": seconds}


def child_report(module: str, *args: str) -> dict[str, Any]:
    """`python -m <module> --child <args> <fresh directory>` in a fresh process (so its peak
    RSS is its own work's), and the JSON object it prints."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as directory:
        done = subprocess.run(
            [sys.executable, "-m", module, "--child", *args, directory],
            cwd=root, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the memory child failed ({done.returncode}):\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report
