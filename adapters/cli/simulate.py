"""`engage simulate`: seeded, signed provider traffic through Engage, checked against its truth.

Generates the traffic (`engage_core.simulation.generator`), feeds it directly through the
adapters or over HTTP to `engage serve` (`simulate_feed`), catches the outbox up, compares the
engine with the ground truth (`simulate_check`) and prints the report; `--out` writes the
traffic as files `engage ingest` replays, with a script and `truth.json`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adapters.cli.commands import application
from adapters.cli.errors import CommandFailed, UsageError
from adapters.cli.render import dumps
from adapters.cli.simulate_check import (
    FIRST,
    check_consent,
    check_events,
    check_messages,
    outbox_events,
)
from adapters.cli.simulate_feed import Fed, HttpTarget, feed_direct, feed_http
from adapters.cli.simulate_files import write_out
from adapters.views.runner import Views, catch_up, views_location
from engage_core import Channel, EngageApplication, InvalidInput
from engage_core.simulation.generator import Simulation, generate
from engage_core.simulation.profiles import PROFILES, Profile, builtin_profile, load_profile

__all__ = ["run_simulation", "simulate"]


def _profile(name: str) -> Profile:
    try:
        if name in PROFILES:
            return builtin_profile(name)
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"--profile {name}: not a shipped profile ({', '.join(PROFILES)}) "
                             f"nor a readable file: {error}") from None  # fmt: skip
        return load_profile(text)
    except InvalidInput as error:
        raise UsageError(f"--profile {name}: {error}") from None


@contextmanager
def _bar(total: int) -> Iterator[Callable[[], None]]:
    """A progress bar over stderr when it is a terminal; elsewhere nothing."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("simulating", total=total)
        yield lambda: bar.advance(task)


def _target(args: argparse.Namespace) -> HttpTarget | None:
    if args.via == "direct":
        if args.url:
            raise UsageError("--url is for --via http")
        return None
    if not args.url:
        raise UsageError("--via http needs --url (a running `engage serve`)")
    return HttpTarget(args.url, os.environ.get("ENGAGE_API_TOKEN", ""),
                      os.environ.get("ENGAGE_WRITE_KEY", ""))  # fmt: skip


def _status_and_funnel(app: EngageApplication, simulation: Simulation) -> dict[str, Any]:
    status: dict[str, Counter[str]] = {channel.value: Counter() for channel in Channel}
    funnel: dict[str, Counter[str]] = {channel.value: Counter() for channel in Channel}
    for expected in simulation.truth.messages.values():
        channel = Channel(str(expected["channel"]))
        found = app.find_message(channel, str(expected["provider_message_id"]),
                                 str(expected["provider"]))  # fmt: skip
        if found is None or found.state.status in {"receiving", "received"}:
            continue
        state = found.state
        status[channel.value][state.status or "unknown"] += 1
        stages = funnel[channel.value]
        stages["messages"] += 1
        stages["delivered"] += state.status in {"delivered", "read"} or bool(state.engagement)
        stages["read"] += state.status == "read"
        stages["opened"] += "open" in state.engagement
        stages["clicked"] += "click" in state.engagement
    return {
        "status": {c: dict(counts.most_common()) for c, counts in status.items() if counts},
        "funnel": {c: dict(stages) for c, stages in funnel.items() if stages},
    }


def _truth_report(app: EngageApplication, simulation: Simulation, events: Counter[str]
                  ) -> dict[str, Any]:  # fmt: skip
    messages = check_messages(app, simulation.truth)
    consent = check_consent(app, simulation.truth)
    published = check_events(simulation.truth, events)
    return {
        "messages_checked": len(simulation.truth.messages),
        "mismatches": len(messages),
        "consent_checked": len(simulation.truth.consent),
        "consent_mismatches": len(consent),
        "events_checked": sum(simulation.truth.events.values()),
        "event_mismatches": len(published),
        "first_mismatches": [*messages[:FIRST], *consent[:FIRST], *published[:FIRST]],
    }


def run_simulation(store: str, simulation: Simulation, target: HttpTarget | None
                   ) -> dict[str, Any]:  # fmt: skip
    """Feed the simulation (directly, or to `target`) and compare; the report as a dict."""
    with application(store) as app:
        views = Views(views_location(store), upstream=app.name)
        try:
            catch_up(app, [views.outbox], page=views.page)
            before = views.outbox.last_position()
            with _bar(len(simulation.arrivals)) as tick:
                fed: Fed = (feed_direct(app, simulation, tick) if target is None
                            else feed_http(target, simulation, tick))  # fmt: skip
            catch_up(app, [views.outbox], page=views.page)
            events = outbox_events(views.outbox, before)
            truth = _truth_report(app, simulation, events)
            shown = _status_and_funnel(app, simulation)
        finally:
            views.close()
    changes = sum(events[n] for n in ("Channel Subscription Updated",
                                      "Group Subscription Updated"))  # fmt: skip
    return {
        "seed": simulation.seed, "profile": simulation.profile, "messages": simulation.messages,
        "via": "direct" if target is None else "http", "inputs": dict(sorted(fed.inputs.items())),
        "outcomes": dict(fed.outcomes), **shown, "consent_changes": changes,
        "ground_truth": truth,
    }  # fmt: skip


def _text(report: dict[str, Any]) -> str:
    truth = report["ground_truth"]
    lines = [
        f"Simulated {report['messages']} messages (seed {report['seed']}, profile "
        f"{report['profile']}, via {report['via']})",
        "inputs:   " + "  ".join(f"{k} {v}" for k, v in report["inputs"].items()),
        "outcomes: " + "  ".join(f"{k} {v}" for k, v in report["outcomes"].items()),
    ]
    for channel, counts in report["status"].items():
        lines.append(f"{channel:<9} " + "  ".join(f"{k} {v}" for k, v in counts.items()))
    for channel, stages in report["funnel"].items():
        lines.append(f"funnel {channel:<9} " + " → ".join(f"{k} {v}" for k, v in stages.items()))
    lines.append(f"consent changes published: {report['consent_changes']}")
    lines.append(
        f"ground truth: {truth['messages_checked']} messages ({truth['mismatches']} mismatches), "
        f"{truth['consent_checked']} contacts ({truth['consent_mismatches']} mismatches), "
        f"{truth['events_checked']} events ({truth['event_mismatches']} mismatches)"
    )
    lines += [f"  mismatch: {dumps(m)}" for m in truth["first_mismatches"]]
    if "out" in report:
        lines.append(f"traffic and truth.json written to {report['out']}")
    return "\n".join(lines)


def simulate(args: argparse.Namespace) -> int:
    profile = _profile(args.profile)
    target = _target(args)
    simulation = generate(args.seed, args.messages, profile)
    if args.out:
        try:
            write_out(Path(args.out), simulation)
        except OSError as error:
            raise CommandFailed(f"cannot write {args.out}: {error.strerror or error}") from None
    try:
        report = run_simulation(args.store, simulation, target)
    except OSError as error:  # the service cannot be reached
        raise CommandFailed(f"cannot reach {args.url}: {error}") from None
    if args.out:
        report["out"] = args.out
    print(dumps(report) if args.json else _text(report))
    truth = report["ground_truth"]
    mismatched = truth["mismatches"] + truth["consent_mismatches"] + truth["event_mismatches"]
    return 1 if mismatched else 0
