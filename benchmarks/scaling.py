"""How each way in scales: per-input cost and peak memory at 10k, 100k and 1M inputs.

A ratio at one size can hide a cost that grows with the store (a B-tree of random keys that no
longer fits the cache, a set that keeps every key, a view that reads what it wrote). So ingest
(`engage observe` of simulated reports), SendGrid (webhook requests through `ingest`), rebuild
(`engage rebuild --all` of the log the ingest run wrote) and the consent CSV import each run at
every size, each in a fresh process (`benchmarks.probe`) on an input written to disk first, into
a fresh store. A workload is called **linear** when its per-input cost at every size is within
±25% of its cost at the smallest, and **flat in memory** when its peak RSS at the largest size
is at most 25% above the smallest's (rebuild also has a ceiling: under 300 MB at 1M events).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from benchmarks.inputs import write
from benchmarks.probe import probe

SIZES = (10_000, 100_000, 1_000_000)
WORKLOADS = ("ingest", "sendgrid", "rebuild", "consent")
LINEAR = 0.25  # per-input cost within ±25% of the smallest size's
FLAT = 0.25  # peak RSS at most 25% above the smallest size's
REBUILD_CEILING_MIB = 300.0


@attrs.frozen
class Point:
    """One workload at one size."""

    workload: str
    inputs: int
    seconds: float
    peak_kib: int
    events: int

    @property
    def us_per_input(self) -> float:
        return self.seconds / max(self.inputs, 1) * 1e6

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


def _point(workload: str, report: dict[str, Any]) -> Point:
    return Point(workload, int(report["inputs"]), float(report["seconds"]),
                 int(report["peak_kib"]), int(report["events"]))  # fmt: skip


def measure_size(
    size: int, workloads: Sequence[str], on_point: Callable[[Point], None] = lambda _: None
) -> list[Point]:
    """Every asked-for workload at `size` inputs, each in a fresh process and store."""
    points: list[Point] = []

    def keep(point: Point) -> None:
        points.append(point)
        on_point(point)

    with tempfile.TemporaryDirectory(prefix="engage-bench-scaling-") as name:
        directory = Path(name)
        if "ingest" in workloads or "rebuild" in workloads:
            lines = write("observe", directory, count=size)
            log = directory / "observe.db"
            observed = _point("ingest", probe("observe", lines.path, log))
            lines.path.unlink()
            if "ingest" in workloads:
                keep(observed)
            if "rebuild" in workloads:
                keep(_point("rebuild", probe("rebuild", log, log)))
            for leftover in directory.glob("observe*"):
                leftover.unlink()
        for workload, kind in (("sendgrid", "sendgrid"), ("consent", "consent")):
            if workload in workloads:
                written = write(kind, directory, count=size)
                keep(_point(workload, probe(kind, written.path, directory / f"{kind}.db")))
    return points


@attrs.frozen
class Verdict:
    """One workload across the sizes."""

    workload: str
    points: tuple[Point, ...]

    @property
    def cost_spread(self) -> float:
        """The per-input cost farthest from the smallest size's, as a fraction of it."""
        first = self.points[0].us_per_input
        return max(abs(p.us_per_input / first - 1) for p in self.points)

    @property
    def linear(self) -> bool:
        return self.cost_spread <= LINEAR

    @property
    def memory_growth(self) -> float:
        return self.points[-1].peak_kib / max(self.points[0].peak_kib, 1) - 1

    @property
    def flat(self) -> bool:
        within = self.memory_growth <= FLAT
        if self.workload == "rebuild":
            within = within and self.points[-1].peak_mib < REBUILD_CEILING_MIB
        return within

    def as_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "sizes": [p.inputs for p in self.points],
            "us_per_input": [round(p.us_per_input, 1) for p in self.points],
            "peak_mib": [round(p.peak_mib, 1) for p in self.points],
            "cost_spread": round(self.cost_spread, 3), "linear": self.linear,
            "memory_growth": round(self.memory_growth, 3), "flat_memory": self.flat,
        }  # fmt: skip


def verdicts(points: Sequence[Point]) -> list[Verdict]:
    """The points grouped by workload, in `WORKLOADS` order, sizes ascending."""
    found = []
    for workload in WORKLOADS:
        mine = sorted((p for p in points if p.workload == workload), key=lambda p: p.inputs)
        if mine:
            found.append(Verdict(workload, tuple(mine)))
    return found


def measure(
    sizes: Sequence[int] = SIZES,
    workloads: Sequence[str] = WORKLOADS,
    on_point: Callable[[Point], None] = lambda _: None,
) -> list[Verdict]:
    """Every workload at every size (smallest first)."""
    points = [p for size in sorted(sizes) for p in measure_size(size, workloads, on_point)]
    return verdicts(points)


def markdown(found: Sequence[Verdict]) -> str:
    """The verdicts as a Markdown table: µs per input and peak MiB at each size."""
    if not found:
        return ""
    sizes = [f"{p.inputs:,}" for p in found[0].points]
    head = " | ".join(f"{s}: µs/input, peak MiB" for s in sizes)
    lines = [
        f"| workload | {head} | linear (±{LINEAR:.0%}) | flat memory |",
        "|---|" + "---:|" * len(sizes) + "---|---|",
    ]
    for verdict in found:
        cells = " | ".join(
            f"{p.us_per_input:,.1f} µs, {p.peak_mib:,.0f} MiB" for p in verdict.points
        )
        linear = "yes" if verdict.linear else "**no**"
        flat = "yes" if verdict.flat else "**no**"
        lines.append(
            f"| {verdict.workload} | {cells} | {linear} (at most {verdict.cost_spread:.0%} off) "
            f"| {flat} (peak {verdict.memory_growth:+.0%}) |"
        )
    return "\n".join(lines)
