"""`python -m benchmarks` (`make bench`): run the workloads, print rates and ratios against goals.

Prints what the figures depend on first (Python, platform, CPUs, library versions), so a pasted
report says where it was measured. Goals are reported, never enforced: a timing gate on a shared
VM would fail on noise, which is why there are no timed unit tests either.
"""

from __future__ import annotations

import argparse
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
    sendgrid_webhook,
    service,
    status_step,
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
        choices=WORKLOADS,
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
    parser.add_argument(
        "--per-message-machines",
        action="store_true",
        help="fold, status: bind each message to a Machine of its own instead of shared Machines",
    )
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    observations = _sized(args.observations, args.quick, QUICK_OBSERVATIONS, FULL_OBSERVATIONS)
    repeats = _sized(args.repeats, args.quick, QUICK_REPEATS, FULL_REPEATS)
    if observations < 1 or repeats < 1:
        print("--observations and --repeats must be at least 1", file=sys.stderr)
        return 2
    selected = [name for name in WORKLOADS if not args.only or name in args.only]
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
