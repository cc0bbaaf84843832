"""`python -m benchmarks`: run the workloads, print rates and ratios against goals.

Prints what the figures depend on first (Python, platform, CPUs, library versions), so a pasted
report says where it was measured. Goals are reported, never enforced: a timing gate on a shared
VM would fail on noise, which is why there are no timed unit tests either.

`--table` (`make bench`, `make bench-quick`) runs the workloads the goals are set on and prints
one table of them (`benchmarks.table`), as JSON with `--json`, written into
`docs/benchmarks.md` with `--write`; `--scaling` measures per-input cost and peak memory at
10k, 100k and 1M inputs (`benchmarks.scaling`). Human text goes to stderr when stdout carries
JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version

from benchmarks import (
    cli_start,
    consent_import,
    destinations,
    fold,
    ingest,
    postgres,
    rebuild,
    report,
    scaling,
    sendgrid_webhook,
    service,
    status_step,
    table,
)

WORKLOADS = (
    "fold", "status", "ingest", "sendgrid", "destinations", "consent", "rebuild", "cli",
    "service", "postgres",
)  # fmt: skip
FULL_OBSERVATIONS = 50_000
QUICK_OBSERVATIONS = 5_000
FULL_REPEATS = 5
QUICK_REPEATS = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure engage-core workloads against their baselines, as ratios.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_OBSERVATIONS:,} observations, best of {QUICK_REPEATS} "
        f"(consent: {consent_import.QUICK_ROWS:,} rows)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted({*WORKLOADS, *table.TABLE_WORKLOADS}),
        metavar="NAME",
        help=f"run only this workload (repeatable; one of: {', '.join(WORKLOADS)})",
    )
    parser.add_argument(
        "--observations",
        type=int,
        help=f"observations per workload (consent: CSV rows, default {consent_import.FULL_ROWS:,})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="rounds; each contender's best counts "
        f"(consent: default {consent_import.FULL_REPEATS}, best of {QUICK_REPEATS} with --quick)",
    )
    parser.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    parser.add_argument(
        "--seconds",
        type=float,
        help=f"service: seconds of the open-loop callbacks (default {service.FULL_SECONDS:g}, "
        f"{service.QUICK_SECONDS:g} with --quick); postgres: seconds of its lag part's load "
        f"(default {postgres.FULL_SECONDS:g}, {postgres.QUICK_SECONDS:g} with --quick)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=service.FULL_RATE,
        help=f"service: callbacks a second, open loop (default {service.FULL_RATE:g})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile top 20 (cumulative) of each workload's subject "
        "(for ingest, wall time per phase first)",
    )
    _table_options(parser)
    parser.add_argument(
        "--per-message-machines",
        action="store_true",
        help="fold, status: bind each message to a Machine of its own instead of shared Machines",
    )
    return parser


def _table_options(parser: argparse.ArgumentParser) -> None:
    """The options of the goal table and the scaling runs (`make bench`, `make bench-quick`)."""
    parser.add_argument(
        "--table",
        action="store_true",
        help="run the goal workloads and print one table of them (--only picks among: "
        f"{', '.join(table.TABLE_WORKLOADS)})",
    )
    parser.add_argument("--json", action="store_true", help="--table, --scaling: JSON on stdout")
    parser.add_argument(
        "--write",
        action="store_true",
        help="--table, --scaling: rewrite the table(s) in docs/benchmarks.md",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="per-input cost and peak RSS of ingest, sendgrid, rebuild and consent at each size, "
        "each in a fresh process",
    )
    parser.add_argument(
        "--scaling-sizes",
        type=lambda text: tuple(int(size) for size in text.split(",")),
        default=scaling.SIZES,
        metavar="N,N,…",
        help=f"--scaling: the sizes (default {','.join(str(n) for n in scaling.SIZES)})",
    )


def _environment() -> str:
    libraries = ", ".join(
        f"{name} {version(name)}" for name in ("eventsourcing", "transitions", "attrs", "cattrs")
    )
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.platform()}, {os.cpu_count()} CPUs; {libraries}"
    )


def _sized(given: int | None, quick: bool, quick_value: int, full_value: int) -> int:
    """An option as given, else the workload's quick or full default."""
    if given is not None:
        return given
    return quick_value if quick else full_value


def _seconds(args: argparse.Namespace) -> float:
    """service: how long the open-loop part lasts."""
    if args.seconds is not None:
        return float(args.seconds)
    return service.QUICK_SECONDS if args.quick else service.FULL_SECONDS


def _lag_seconds(args: argparse.Namespace) -> float:
    """postgres: how long the lag part's sustained load lasts."""
    if args.seconds is not None:
        return float(args.seconds)
    return postgres.QUICK_SECONDS if args.quick else postgres.FULL_SECONDS


def _runs(args: argparse.Namespace) -> dict[str, Callable[[], tuple[object, str]]]:
    """Each workload's run at the sizes asked for (each has its own defaults)."""
    quick = args.quick
    observations = _sized(args.observations, quick, QUICK_OBSERVATIONS, FULL_OBSERVATIONS)
    repeats = _sized(args.repeats, quick, QUICK_REPEATS, FULL_REPEATS)
    common = {"observations": observations, "seed": args.seed, "repeats": repeats}
    machines = {"per_message_machines": args.per_message_machines}
    # consent: its own default size (CSV rows) and one round at full size, which takes minutes
    rows = _sized(args.observations, quick, consent_import.QUICK_ROWS, consent_import.FULL_ROWS)
    rounds = _sized(args.repeats, quick, QUICK_REPEATS, consent_import.FULL_REPEATS)
    events = _sized(args.observations, quick, rebuild.QUICK_EVENTS, rebuild.FULL_EVENTS)
    return {
        "fold": lambda: fold.run(**common, **machines),
        "status": lambda: status_step.run(**common, **machines),
        "ingest": lambda: ingest.run(**common),
        "sendgrid": lambda: sendgrid_webhook.run(**common),
        "destinations": lambda: destinations.run(**common),
        "consent": lambda: consent_import.run(rows=rows, seed=args.seed, repeats=rounds),
        "rebuild": lambda: rebuild.run(
            observations=events,
            seed=args.seed,
            repeats=_sized(args.repeats, quick, QUICK_REPEATS, rebuild.FULL_REPEATS),
        ),
        "cli": lambda: cli_start.run(
            repeats=_sized(args.repeats, quick, QUICK_REPEATS, cli_start.FULL_REPEATS)
        ),
        "service": lambda: service.run(**common, rate=args.rate, seconds=_seconds(args)),
        "postgres": lambda: postgres.run(**common, seconds=_lag_seconds(args)),
    }


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _command(args: argparse.Namespace) -> str:
    """The command that reproduces a run, for the doc."""
    words = ["python -m benchmarks"]
    words += ["--table"] if args.table else []
    words += ["--scaling"] if args.scaling else []
    words += ["--quick"] if args.quick else []
    if args.scaling and args.scaling_sizes != scaling.SIZES:
        words.append("--scaling-sizes " + ",".join(str(n) for n in args.scaling_sizes))
    words += [f"--only {name}" for name in args.only or ()]
    return " ".join(words)


def _tables(args: argparse.Namespace) -> int:
    """`--table` and/or `--scaling`: measure, then print (JSON or Markdown) and write the doc."""
    _say(_environment())
    command, started = _command(args), time.perf_counter()
    output: dict[str, object] = {}
    if args.table:
        sizes = table.Sizes(args.quick, args.seed, args.observations, args.repeats)
        wanted = [name for name in table.TABLE_WORKLOADS if not args.only or name in args.only]
        rows = table.collect(sizes, wanted, lambda name, s: _say(f"  {name}: {s:.0f} s"))
        text = table.markdown(rows)
        output["table"] = [row.as_json() for row in rows]
        _show(args, "bench-table", text, command, time.perf_counter() - started)
    if args.scaling:
        begun = time.perf_counter()
        found = scaling.measure(
            args.scaling_sizes,
            [name for name in scaling.WORKLOADS if not args.only or name in args.only],
            lambda point: _say(f"  {point.workload} at {point.inputs:,}: "
                               f"{point.us_per_input:,.1f} µs/input, {point.peak_mib:,.0f} MiB"),
        )  # fmt: skip
        output["scaling"] = [verdict.as_json() for verdict in found]
        _show(args, "bench-scaling", scaling.markdown(found), command, time.perf_counter() - begun)
    if args.json:
        rows_only = args.table and not args.scaling
        print(json.dumps(output["table"] if rows_only else output, indent=1, ensure_ascii=False))
    return 0


def _show(
    args: argparse.Namespace, marker: str, markdown: str, command: str, seconds: float
) -> None:
    """A table with the line saying where it was measured: on stderr under `--json` (stdout
    then holds the JSON alone), else on stdout; written into the doc under `--write`."""
    text = markdown + "\n\n" + report.provenance(command, seconds)
    _say(text) if args.json else print(text, flush=True)
    if args.write:
        report.rewrite(marker, text)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.table or args.scaling:
        return _tables(args)
    observations = _sized(args.observations, args.quick, QUICK_OBSERVATIONS, FULL_OBSERVATIONS)
    repeats = _sized(args.repeats, args.quick, QUICK_REPEATS, FULL_REPEATS)
    if observations < 1 or repeats < 1:
        print("--observations and --repeats must be at least 1", file=sys.stderr)
        return 2
    selected = [name for name in WORKLOADS if not args.only or name in args.only]
    if args.only and not selected:
        print(f"--only {args.only[0]}: a --table workload (add --table)", file=sys.stderr)
        return 2
    print(_environment(), flush=True)
    runs = _runs(args)
    rows = _sized(args.observations, args.quick, consent_import.QUICK_ROWS,
                  consent_import.FULL_ROWS)  # fmt: skip
    profiles: dict[str, Callable[..., str]] = {
        "fold": fold.profile,
        "ingest": ingest.profile,
        "sendgrid": sendgrid_webhook.profile,
        "consent": lambda observations, seed: consent_import.profile(rows=rows, seed=seed),
        "service": lambda observations, seed: service.profile(
            observations=observations, seed=seed, seconds=_seconds(args), rate=args.rate
        ),
        "postgres": postgres.profile,
    }
    for name in selected:
        started = time.perf_counter()
        _, text = runs[name]()
        print(f"\n{text}\n  ({time.perf_counter() - started:.0f} s)", flush=True)
        if args.profile and name in profiles:
            report = profiles[name](observations=observations, seed=args.seed)
            print("\n" + report, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
