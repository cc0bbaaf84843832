"""`engage deliver`, `engage replay`, `engage dead-letters list|redrive`: the outbox's events
out to the configured destinations (`docs/destinations.md`)."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import attrs

from adapters.cli import arguments
from adapters.cli.commands import application
from adapters.cli.errors import CommandFailed, UsageError
from adapters.cli.progress import log_bar
from adapters.cli.project import waiter_said_on_stderr
from adapters.cli.render import dumps
from adapters.cli.reopening import TRANSIENT, Backoff, views_and_ledger
from adapters.cli.stopping import stop_requested
from adapters.destinations import (
    ConfigError,
    Configured,
    Cooldown,
    CursorLost,
    CursorMoved,
    Ledger,
    OutboxBehind,
    Report,
    Settings,
    Stopped,
    deliver,
    load_settings,
    redrive,
    replay,
    since,
)
from adapters.destinations.exclusive import DELIVER, Guarded, RoleLock, RoleLost, role_lock
from adapters.views import Views, catch_up
from adapters.views.base import ViewRebuilt
from adapters.views.waiting import LogWaiter
from engage_core import EngageApplication


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.store, args.config)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def _chosen(settings: Settings, name: str | None) -> dict[str, Configured]:
    if name is None:
        return settings.destinations
    if name not in settings.destinations:
        known = ", ".join(settings.destinations)
        raise UsageError(f"no destination {name!r} in {settings.source}; configured: {known}")
    return {name: settings.destinations[name]}


@contextmanager
def _closing(destinations: dict[str, Configured]) -> Iterator[None]:
    try:
        yield
    finally:
        for configured in destinations.values():
            configured.destination.close()


def _report_json(configured: Configured, report: Report) -> dict[str, Any]:
    fields = attrs.asdict(report, recurse=False)
    stopped = fields.pop("stopped")  # the reason goes to stderr; here only what kind of stop
    fields["stopped"] = None if stopped is None else stopped.kind
    return {**fields, **configured.destination.describe()}


def _stopped_line(name: str, stopped: Stopped) -> str:
    if stopped.misconfigured:
        return (
            f"engage: {name}: stopped, its settings were refused (nothing parked; fix them and "
            f"deliver again): {stopped.reason}"
        )
    return f"engage: {name}: stopped, the destination seems down: {stopped.reason}"


def _warn(report: Report, rest: float = 0.0) -> None:
    name = report.destination
    if report.stopped is not None:
        resting = f"; resting {rest:.0f} s before trying again" if rest else ""
        print(_stopped_line(name, report.stopped) + resting, file=sys.stderr)
    if report.parked:
        print(f"engage: {name}: {report.parked} events parked in dead letters "
              "(engage dead-letters list)", file=sys.stderr)  # fmt: skip
    if report.pending:
        print(f"engage: {name}: {report.pending} events still pending", file=sys.stderr)


DELIVER_WAIT = 60.0  # seconds a one-off `deliver` waits for the deliver lock


def deliver_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    chosen = _chosen(settings, args.destination)
    with (
        application(args.store, wait=args.follow) as app,
        views_and_ledger(args.store, app.name, wait=args.follow) as (views, ledger),
        role_lock(views.datastore, DELIVER) as lock,  # released however the run ends
    ):
        return _deliver_loop(args, settings, chosen, (app, views, ledger), lock)


def _deliver_loop(
    args: argparse.Namespace, settings: Settings, chosen: dict[str, Configured],
    where: tuple[EngageApplication, Views, Ledger], lock: RoleLock,
) -> int:  # fmt: skip
    """Deliver once, or with `--follow` whenever the log may have grown (a commit wakes it on
    PostgreSQL; at the latest every `poll_interval`), holding the deliver lock. A destination
    whose run stopped (down, or refusing its settings) rests for its cooldown under `--follow`:
    each run parks at most one batch, so without it an outage would park one batch a poll."""
    app, views, _ = where
    # each batch proves the lock before it is sent: a holder that lost it sends no more
    guarded = {name: attrs.evolve(c, destination=Guarded(c.destination, lock))
               for name, c in chosen.items()}  # fmt: skip
    with _closing(chosen), stop_requested() as stop, waiter_said_on_stderr():
        if not _take(lock, args.follow, stop):
            return 130
        waiter = LogWaiter(app, stop=stop) if args.follow else None
        backoff = Backoff(stop, app.recorder, views.datastore)
        try:
            try:
                with log_bar("catching up") as advance:  # the first may be long; a poll's short
                    catch_up(app, [views.outbox], page=views.page, on_progress=advance)
            except TRANSIENT as error:  # the store went away: each round catches up again
                if waiter is None:
                    raise
                backoff.failed(error)
            while True:
                done = _round(args, guarded, settings.cooldown, where, (lock, stop, backoff))
                if done is not None or waiter is None:
                    return 130 if done is None else done
                waiter.wait(settings.poll_interval)
        finally:
            if waiter is not None:
                waiter.close()


def _round(
    args: argparse.Namespace, chosen: dict[str, Configured], cooldown: Cooldown,
    where: tuple[EngageApplication, Views, Ledger],
    holding: tuple[RoleLock, threading.Event, Backoff],
) -> int | None:  # fmt: skip
    """The outbox caught up and one run of each destination; the exit code (None: `--follow`
    goes on). Once: exit 1 when a destination refused its settings, or the lock was lost.
    `--follow` stands by after a lost lock, and waits a store error out."""
    app, views, _ = where
    lock, stop, backoff = holding
    try:
        catch_up(app, [views.outbox], page=views.page)
        refused = _poll(args, chosen, cooldown, where, stop)
    except RoleLost as lost:
        if not args.follow:
            raise CommandFailed(f"{lost}: another process may be delivering") from None
        print(f"engage: {lost}", file=sys.stderr, flush=True)
        return None if _take(lock, True, stop) else 130
    except TRANSIENT as error:
        if not args.follow:
            raise
        backoff.failed(error)
        return 130 if stop.is_set() else None
    backoff.succeeded()
    return 130 if refused is None else None if args.follow else int(refused)


def _take(lock: RoleLock, follow: bool, stop: threading.Event) -> bool:
    """Hold the deliver lock: `--follow` stands by for as long as another process holds it;
    a one-off run waits up to `DELIVER_WAIT` seconds, then fails. False: stopped meanwhile."""

    def say(line: str) -> None:
        print(f"engage: {line}", file=sys.stderr, flush=True)

    if lock.take(stop, say, None if follow else DELIVER_WAIT) or stop.is_set():
        return lock.held and not stop.is_set()
    raise CommandFailed(
        f"cannot take the deliver lock ({lock.where}): {lock.problem}" if lock.problem else
        f"another process kept the deliver lock for {DELIVER_WAIT:.0f} s ({lock.where}): it "
        "is delivering these events already (an `engage deliver --follow` or `engage serve`)"
    )  # fmt: skip


def _poll(
    args: argparse.Namespace,
    chosen: dict[str, Configured],
    cooldown: Cooldown,
    where: tuple[EngageApplication, Views, Ledger],
    stop: threading.Event,
) -> bool | None:
    """One run of every chosen destination not resting; whether one refused its settings
    (None: asked to stop on the way)."""
    refused = False
    for name, configured in chosen.items():
        if stop.is_set():
            return None
        if args.follow and cooldown.remaining(name) > 0:
            continue
        report = _one_run(*where, name, configured, args.follow)
        if report is None:
            continue  # the outbox is being rebuilt: the next poll delivers
        rest = cooldown.record(name, report) if args.follow else 0.0
        refused = refused or bool(report.stopped and report.stopped.misconfigured)
        if not args.follow or report.delivered or report.parked or report.stopped:
            print(dumps({"destination": name, **_report_json(configured, report)}), flush=True)
            _warn(report, rest)
    return refused


def _one_run(
    app: EngageApplication,
    views: Views,
    ledger: Ledger,
    name: str,
    configured: Configured,
    follow: bool,
) -> Report | None:
    """One destination's run, saying when its cursor was found again in a rebuilt outbox."""
    try:
        report = _deliver_rebuilt(app, views, ledger, configured, follow)
    except CursorMoved as error:
        if not follow:
            raise CommandFailed(str(error)) from None
        # a holder that lost the lock finished its batch after this one took over: the next
        # round reads the cursor where it moved to (that batch went out twice, at least once)
        print(f"engage: {error}; going on from where it is", file=sys.stderr, flush=True)
        return None
    except CursorLost as error:
        raise CommandFailed(str(error)) from None
    if report is not None and report.relocated_from is not None:
        print(f"engage: {name}: the outbox was rebuilt and renumbered; the cursor "
              f"(was position {report.relocated_from}) was found again by the "
              "messageId it was at", file=sys.stderr)  # fmt: skip
    return report


REBUILT_RETRIES = 20  # runs a one-off `deliver` tries while the outbox is being rebuilt


def _deliver_rebuilt(
    app: EngageApplication, views: Views, ledger: Ledger, configured: Configured, follow: bool
) -> Report | None:
    """One run of a destination, again when a rebuild of the outbox ended it early (the next
    run finds the cursor in the new build) or when the rebuilt outbox had not yet reached the
    cursor (catching it up first). With `--follow`, the next poll does that instead: None."""
    delivered: list[Report] = []
    for _ in range(REBUILT_RETRIES):
        try:
            report = deliver(
                configured.destination, views.outbox, ledger, configured.policy,
                start_at_end=configured.start_at_end,
            )  # fmt: skip
        except OutboxBehind:
            report = None
        if report is not None:
            delivered.append(report)
            if not report.rebuilt:
                return _summed(delivered)
        if follow:
            return _summed(delivered) if delivered else None
        catch_up(app, [views.outbox], page=views.page)
    raise CommandFailed(
        f"destination {configured.destination.name!r}: the outbox kept being rebuilt while "
        "delivering; deliver again when the rebuild is over"
    )


def _summed(reports: list[Report]) -> Report:
    """Runs of one destination as one report: the counts added, the last run's position."""
    last = reports[-1]
    return attrs.evolve(
        last,
        delivered=sum(r.delivered for r in reports),
        batches=sum(r.batches for r in reports),
        parked=sum(r.parked for r in reports),
        dead_letters=sum(r.dead_letters for r in reports),
        relocated_from=next((r.relocated_from for r in reports if r.relocated_from), None),
    )


def _start(value: str) -> tuple[int, datetime | None]:
    """`--from`: a position (digits) or an ISO-8601 time (checked as argparse read it)."""
    return arguments.start(value)


def replay_command(args: argparse.Namespace) -> int:
    position, moment = _start(args.start)
    settings = _settings(args)
    configured = _chosen(settings, args.destination)[args.destination]
    with (
        application(args.store) as app,
        views_and_ledger(args.store, app.name) as (views, ledger),
        _closing({args.destination: configured}),
    ):
        catch_up(app, [views.outbox], page=views.page)
        try:
            report = replay(
                configured.destination, views.outbox, ledger, configured.policy,
                from_position=position, keep=None if moment is None else since(moment),
            )  # fmt: skip
        except ViewRebuilt:
            raise CommandFailed(
                "the outbox was rebuilt during the replay, which renumbers its positions; "
                "replay again (from a time, or from a position of the new outbox)"
            ) from None
    answer = _report_json(configured, report)
    answer.pop("pending")
    # stopped, a replay says how far it got: `--from resume_from` sends the rest
    answer["not_replayed"] = report.pending
    answer["resume_from"] = report.position + 1 if report.stopped else None
    print(dumps({"destination": args.destination, "from": args.start, **answer}))
    if report.parked:
        print(
            f"engage: {args.destination}: {report.parked} events parked in dead letters "
            "(engage dead-letters list)",
            file=sys.stderr,
        )
    if report.stopped is None:
        return 0
    print(_stopped_line(args.destination, report.stopped), file=sys.stderr)
    print(
        f"engage: {args.destination}: {report.pending} events not replayed; resume with "
        f"engage replay --destination {args.destination} --from {report.position + 1}",
        file=sys.stderr,
    )
    return 1


def list_command(args: argparse.Namespace) -> int:
    with views_and_ledger(args.store) as (_, ledger):
        for letter in ledger.dead_letters(args.destination, include_redriven=args.all):
            print(dumps(letter.summary()))
    return 0


def redrive_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with views_and_ledger(args.store) as (_, ledger), _closing(settings.destinations):
        letters = ledger.dead_letters(args.destination, ids=args.ids)
        missing = sorted(set(args.ids) - {letter.id for letter in letters})
        for number in missing:
            print(f"engage: no parked dead letter {number}", file=sys.stderr)
        redriven, still = 0, []
        events = 0
        # a destination that stopped (down, or refusing its settings) is not tried again in
        # this run: its other letters would only wait through every retry, or fail alike
        stopped: dict[str, int] = {}
        for letter in letters:
            configured = settings.destinations.get(letter.destination)
            if configured is None:
                print(
                    f"engage: dead letter {letter.id}: destination {letter.destination!r} is "
                    f"not configured in {settings.source}",
                    file=sys.stderr,
                )
                still.append(letter.id)
                continue
            if letter.destination in stopped:
                stopped[letter.destination] += 1
                still.append(letter.id)
                continue
            report = redrive(configured.destination, letter, ledger, configured.policy)
            events += report.delivered
            if report.stopped is not None:
                stopped[letter.destination] = 0
                print(_stopped_line(letter.destination, report.stopped), file=sys.stderr)
            if report.parked or report.stopped:
                still.append(letter.id)
            else:
                redriven += 1
        for name, skipped in stopped.items():
            if skipped:
                print(f"engage: {name}: {skipped} more dead letters not tried", file=sys.stderr)
    print(dumps({"redriven": redriven, "events": events, "still_parked": still}))
    if still or (missing and not redriven):
        return 1
    return 0
