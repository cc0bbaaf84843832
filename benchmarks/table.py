"""One table of every goal: each workload's figure, its same-run baseline, the ratio, the goal.

`python -m benchmarks --table` runs the workloads the goals are set on and turns what each
returns into `Row`s: printed as JSON (`--json`, one object per row, for CI-sized checks with
`--quick`) or written into `docs/benchmarks.md` between the `bench-table` markers, with the
machine, the commit and the command that made them, so the doc's figures always say where they
came from. A goal is either on the ratio against the baseline measured in the same run (the
figure that holds still on a shared VM) or on the figure itself (start-up milliseconds, bytes
of store per row, memory amplification), and `met` says which way it went. Goals are reported,
never enforced: the exit code does not depend on them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from benchmarks import (
    cli_start,
    consent_import,
    footprint,
    ingest,
    postgres,
    rebuild,
    sendgrid_webhook,
    service,
)
from benchmarks.harness import Result

TABLE_WORKLOADS = (
    "ingest",
    "sendgrid",
    "rebuild",
    "consent",
    "cli",
    "footprint",
    "service",
    "postgres",
)


@attrs.frozen
class Row:
    """One line of the table. `goal_on` is "ratio" or "figure"; `at_most` makes the goal an
    upper bound (milliseconds, bytes, amplification) instead of a lower one."""

    workload: str
    figure: float
    unit: str
    baseline: float | None = None
    baseline_unit: str = ""
    ratio: float | None = None
    goal: float | None = None
    goal_on: str = "ratio"
    at_most: bool = False
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        value = self.ratio if self.goal_on == "ratio" else self.figure
        if value is None or math.isnan(value):
            return False
        return value <= self.goal if self.at_most else value >= self.goal

    def goal_text(self) -> str:
        if self.goal is None:
            return "—"
        sign = "≤" if self.at_most else "≥"
        return f"{self.goal_on} {sign} {self.goal:,g}"

    def as_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "figure": _round(self.figure),
            "unit": self.unit,
            "baseline": _round(self.baseline),
            "baseline_unit": self.baseline_unit,
            "ratio": _round(self.ratio),
            "goal": self.goal,
            "goal_on": self.goal_on,
            "at_most": self.at_most,
            "met": self.met,
            "note": self.note,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


def ratio_row(
    result: Result, workload: str, subject: str, baseline: str, goal: float, note: str = ""
) -> Row:
    """A row whose goal is `subject`'s best rate over `baseline`'s, both in `result`."""
    return Row(
        workload,
        result.best(subject),
        result.unit,
        result.best(baseline),
        result.unit,
        result.ratio(subject, baseline),
        goal,
        note=note or f"{subject} / {baseline}",
    )


@attrs.frozen
class Sizes:
    """What a table run measures at: `--quick` sizes or the full ones; `observations` and
    `repeats`, when given, override those of the ingest, sendgrid, service and postgres
    workloads (the smoke test runs them tiny)."""

    quick: bool
    seed: int = 1
    given_observations: int | None = None
    given_repeats: int | None = None

    def pick(self, quick: int, full: int) -> int:
        return quick if self.quick else full

    @property
    def observations(self) -> int:
        return self.given_observations or self.pick(5_000, 50_000)

    @property
    def repeats(self) -> int:
        return self.given_repeats or self.pick(3, 5)


def _ingest(sizes: Sizes) -> list[Row]:
    result, _ = ingest.run(observations=sizes.observations, seed=sizes.seed, repeats=sizes.repeats)
    return [ratio_row(result, "ingest", ingest.APPLICATION, ingest.RAW, 0.4)]


def _sendgrid(sizes: Sizes) -> list[Row]:
    module = sendgrid_webhook
    result, _ = module.run(observations=sizes.observations, seed=sizes.seed, repeats=sizes.repeats)
    return [ratio_row(result, "sendgrid", module.SUBJECT, module.RAW, 0.4)]


def _rebuild(sizes: Sizes) -> list[Row]:
    events = sizes.pick(rebuild.QUICK_EVENTS, rebuild.FULL_EVENTS)
    repeats = sizes.pick(sizes.repeats, rebuild.FULL_REPEATS)
    result, _ = rebuild.run(observations=events, seed=sizes.seed, repeats=repeats, memory=False)
    raw = result.ratio(rebuild.SUBJECT, rebuild.RAW)
    note = f"{rebuild.SUBJECT} / {rebuild.FLOOR} ({raw:.2f} of read + decode alone)"
    return [ratio_row(result, "rebuild", rebuild.SUBJECT, rebuild.FLOOR, 0.5, note)]


def _consent(sizes: Sizes) -> list[Row]:
    rows = sizes.pick(consent_import.QUICK_ROWS, consent_import.FULL_ROWS)
    repeats = sizes.pick(sizes.repeats, consent_import.FULL_REPEATS)
    done, _ = consent_import.run(rows=rows, seed=sizes.seed, repeats=repeats, memory=False)
    result = done.result
    best = result.best(consent_import.SUBJECT)
    per_row = done.stored_events[-1] / max(done.generated.rows, 1)
    return [
        ratio_row(
            result,
            "consent",
            consent_import.SUBJECT,
            consent_import.RAW,
            consent_import.RATIO_GOAL,
            f"{rows:,} rows, {per_row:.2f} events stored a row",
        ),
        Row(
            "consent rows/s",
            best,
            "rows/s",
            goal=consent_import.ABSOLUTE_GOAL,
            goal_on="figure",
            note=f"absolute, at {rows:,} rows",
        ),
    ]


def _cli(sizes: Sizes) -> list[Row]:
    result, _ = cli_start.run(repeats=sizes.pick(3, cli_start.FULL_REPEATS))
    bare = 1000 / result.best("python -c pass")
    rows = []
    for name in list(cli_start.COMMANDS)[1:]:
        seconds = 1000 / result.best(name)
        rows.append(
            Row(
                f"start: {name}",
                seconds - bare,
                "ms over python -c pass",
                bare,
                "ms (python -c pass)",
                goal=cli_start.GOALS_SECONDS[name] * 1000,
                goal_on="figure",
                at_most=True,
                note=f"{seconds:.0f} ms in all",
            )
        )
    return rows


def _service(sizes: Sizes) -> list[Row]:
    seconds = service.QUICK_SECONDS if sizes.quick else service.FULL_SECONDS
    done, _ = service.run(
        observations=sizes.observations,
        seed=sizes.seed,
        repeats=sizes.repeats,
        seconds=seconds,
        rate=service.FULL_RATE,
    )
    result = done.throughput
    rows = [
        ratio_row(result, f"service: {name}", name, service.IN_PROCESS, service.RATIO_GOAL)
        for name in result.rates
        if name != service.IN_PROCESS
    ]
    for measured in done.latencies:
        p99 = measured.run.percentile(0.99) * 1000
        rows.append(
            Row(
                f"service p99: {measured.workers} worker(s)",
                p99,
                "ms",
                goal=service.P99_GOAL * 1000,
                goal_on="figure",
                at_most=True,
                note=f"{measured.rate:g} callbacks/s open loop, {seconds:g} s",
            )
        )
    return rows


def _postgres(sizes: Sizes) -> list[Row]:
    seconds = postgres.QUICK_SECONDS if sizes.quick else postgres.FULL_SECONDS
    measured, _ = postgres.run(
        observations=sizes.observations, seed=sizes.seed, repeats=sizes.repeats, seconds=seconds
    )
    return [ratio_row(measured.ingest, "postgres ingest", postgres.APPLICATION, postgres.COPY, 0.4)]


def _footprint(sizes: Sizes) -> list[Row]:
    megabytes = sizes.pick(1, 10)
    rows = []
    for found in footprint.measure(megabytes=megabytes):
        way = footprint.WAYS_IN[found.kind]
        size = f"{found.input_bytes / 1e6:.1f} MB input, {found.inputs:,} inputs"
        rows.append(
            Row(
                f"store per input: {found.kind}",
                found.store_per_input,
                "B/input",
                found.input_bytes / max(found.inputs, 1),
                "B/input read",
                None,
                footprint.STORE_GOALS.get(found.kind),
                "figure",
                at_most=True,
                note=f"{way}: {found.events_per_input:.2f} events/input, "
                f"{found.store_per_event:,.0f} B/event; {size}",
            )
        )
        rows.append(
            Row(
                f"memory amplification: {found.kind}",
                found.amplification,
                "x input size",
                found.input_bytes / 1e6,
                "MB input",
                None,
                # the goal is set on 10 MB inputs; at 1 MB a batch's fixed working set rules
                None if sizes.quick else footprint.AMPLIFICATION_GOAL,
                "figure",
                at_most=True,
                note=f"{way}: peak {found.peak_kib / 1024:.0f} MiB, {found.before_kib / 1024:.0f} "
                f"MiB before the work; {found.inputs / found.seconds:,.0f} inputs/s",
            )
        )
    return rows


COLLECTORS: dict[str, Callable[[Sizes], list[Row]]] = {
    "ingest": _ingest,
    "sendgrid": _sendgrid,
    "rebuild": _rebuild,
    "consent": _consent,
    "cli": _cli,
    "footprint": _footprint,
    "service": _service,
    "postgres": _postgres,
}


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def markdown(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| workload | ours | baseline, same run | ratio | goal | met | what |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        baseline = f"{_number(row.baseline)} {row.baseline_unit}" if row.baseline else "—"
        verdict = {True: "met", False: "**missed**", None: "—"}[row.met]
        lines.append(
            f"| {row.workload} | {_number(row.figure)} {row.unit} | {baseline} | "
            f"{_number(row.ratio)} | {row.goal_text()} | {verdict} | {row.note} |"
        )
    return "\n".join(lines)


def collect(
    sizes: Sizes, workloads: Sequence[str], on_done: Callable[[str, float], None]
) -> list[Row]:
    """Every asked-for workload's rows, in table order; `on_done(name, seconds)` after each."""
    rows: list[Row] = []
    for name in TABLE_WORKLOADS:
        if name in workloads:
            started = time.perf_counter()
            rows.extend(COLLECTORS[name](sizes))
            on_done(name, time.perf_counter() - started)
    return rows
