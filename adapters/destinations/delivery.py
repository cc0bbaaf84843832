"""Delivery, the same for every destination: pack outbox entries into batches within the
destination's limits, send each with retries (exponential backoff with full jitter, honouring
`Retry-After`), and park what still fails in dead letters. Never drop an event: every entry
ends up acknowledged by the destination or parked with its reason, or stays pending when the
destination stopped (`Stopped`: it is down, or refuses our settings), for a later run.

`send_all` yields one `Step` per batch; the callers decide what a step commits: `deliver`
moves the live cursor (in the same transaction as the parking); `replays.replay` only parks,
and `replays.redrive` settles the dead letter it came from.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator

import attrs

from adapters.destinations.base import (
    Batch,
    DeliveryFailed,
    Destination,
    Misconfigured,
    TooLarge,
    TransientFailure,
    Unacceptable,
)
from adapters.destinations.ledger import Cursor, Ledger, Parked
from adapters.views import OutboxEntry, OutboxView
from adapters.views.base import Build, ViewRebuilt


@attrs.frozen
class RetryPolicy:
    """How hard to try one batch. The n-th retry waits a random time in [0, min(max_delay,
    base_delay·2ⁿ⁻¹)] ("full jitter": many deliverers recovering at once do not stampede), or
    what the receiver's `Retry-After` asked for. A `Retry-After` beyond `max_retry_after`
    parks the batch at once rather than blocking every other destination that long.
    `sleep` and `random` are injectable so tests do not wait."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        return self.random() * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


@attrs.frozen
class Stopped:
    """Why a destination stopped before the end of what it was given. An outage: a batch gave
    up through every retry (it was parked), and the next ones would only do the same. Or
    `misconfigured`: the receiver refused our settings (a wrong key, a wrong URL), nothing was
    parked and the cursor stayed where it was. `retry_after`: what the receiver last asked
    for, in seconds, when it said."""

    reason: str
    misconfigured: bool = False
    retry_after: float | None = None

    @property
    def kind(self) -> str:
        return "misconfigured" if self.misconfigured else "outage"


@attrs.frozen
class Step:
    """One batch's outcome and the events refused on the way to it. Every outbox entry up to
    `last_position` (of those given) is in `delivered` or `parked`; with `stopped`, the
    destination stopped here and the entries after `last_position` were not tried."""

    delivered: tuple[OutboxEntry, ...]
    parked: tuple[Parked, ...]
    last_position: int
    stopped: Stopped | None = None


def batches(
    destination: Destination, entries: Iterable[OutboxEntry]
) -> Iterator[tuple[Batch | None, list[Parked]]]:
    """Pack entries, in order, into batches within the destination's limits; each batch comes
    with the events refused (`Unacceptable`) since the previous one."""
    refused: list[Parked] = []
    held: list[OutboxEntry] = []
    encoded: list[bytes] = []
    size = 0
    for entry in entries:
        try:
            data = destination.encode(entry)
        except Unacceptable as error:
            refused.append(Parked((entry,), error.reason, 0))
            continue
        if held and not destination.fits(len(held) + 1, size + len(data)):
            yield Batch(tuple(held), tuple(encoded)), refused
            refused, held, encoded, size = [], [], [], 0
        held.append(entry)
        encoded.append(data)
        size += len(data)
    if held or refused:
        yield (Batch(tuple(held), tuple(encoded)) if held else None), refused


@attrs.frozen
class Failed:
    """A batch that could not be delivered: the last failure, after how many attempts, and
    the reason to park it with."""

    failure: DeliveryFailed
    attempts: int
    reason: str

    @property
    def retry_after(self) -> float | None:
        failure = self.failure
        return failure.retry_after if isinstance(failure, TransientFailure) else None


def attempt(destination: Destination, batch: Batch, policy: RetryPolicy) -> Failed | None:
    """Send one batch until it is acknowledged (None) or retrying is over (why). Only
    transient failures are retried."""
    tries = 0
    while True:
        tries += 1
        try:
            destination.send(batch)
            return None
        except DeliveryFailed as failure:
            if not failure.transient:
                return Failed(failure, tries, failure.reason)
            if tries >= policy.max_attempts:
                return Failed(failure, tries, f"{failure.reason} (gave up after {tries} attempts)")
            wait = policy.backoff(tries)
            asked = failure.retry_after if isinstance(failure, TransientFailure) else None
            if asked is not None:
                if asked > policy.max_retry_after:
                    return Failed(failure, tries, f"{failure.reason}; asked to wait {asked:.0f} s")
                wait = asked
            policy.sleep(wait)


class _Outcome:
    """What sending one batch came to, halves included: delivered, parked, and after a stop
    the entries not tried."""

    def __init__(self) -> None:
        self.delivered: list[OutboxEntry] = []
        self.parked: list[Parked] = []
        self.untried: list[OutboxEntry] = []
        self.stopped: Stopped | None = None

    def send(self, destination: Destination, batch: Batch, policy: RetryPolicy) -> None:
        """Send `batch`. Refused as too large (413), its halves are sent in turn, down to
        single events, which are parked: a receiver's size limit must not park good events."""
        if self.stopped is not None:
            self.untried.extend(batch.entries)
            return
        failed = attempt(destination, batch, policy)
        if failed is None:
            self.delivered.extend(batch.entries)
        elif isinstance(failed.failure, TooLarge) and len(batch.entries) > 1:
            half = len(batch.entries) // 2
            for part in (slice(None, half), slice(half, None)):
                self.send(destination, Batch(batch.entries[part], batch.encoded[part]), policy)
        elif isinstance(failed.failure, Misconfigured):
            self.stopped = Stopped(failed.reason, misconfigured=True)
            self.untried.extend(batch.entries)
        else:
            transient = failed.failure.transient
            self.parked.append(Parked(batch.entries, failed.reason, failed.attempts, transient))
            if transient:
                self.stopped = Stopped(failed.reason, retry_after=failed.retry_after)

    def step(self, refused: list[Parked]) -> Step:
        """The step, with the refused events that come before anything untried (those after
        stay for the next run, which refuses them again)."""
        first_untried = min((e.position for e in self.untried), default=None)
        if first_untried is not None:
            refused = [p for p in refused if p.entries[0].position < first_untried]
            last = first_untried - 1
        else:
            last = max(
                [e.position for e in self.delivered]
                + [e.position for p in [*refused, *self.parked] for e in p.entries]
            )
        return Step(tuple(self.delivered), (*refused, *self.parked), last, self.stopped)


def send_all(
    destination: Destination, entries: Iterable[OutboxEntry], policy: RetryPolicy
) -> Iterator[Step]:
    """Send every entry: one `Step` per batch, in outbox order, until one stops."""
    for batch, refused in batches(destination, entries):
        outcome = _Outcome()
        if batch is not None:
            outcome.send(destination, batch, policy)
        step = outcome.step(refused)
        yield step
        if step.stopped is not None:
            return


@attrs.frozen
class Report:
    """What one run did for one destination."""

    destination: str
    delivered: int = 0
    batches: int = 0
    parked: int = 0
    dead_letters: int = 0
    position: int = 0
    pending: int = 0  # outbox events after `position`, left for the next run
    stopped: Stopped | None = None  # why the run ended before the end, if it did
    relocated_from: int | None = None  # the cursor's position before a rebuild renumbered
    rebuilt: bool = False  # the outbox was rebuilt during the run, which ended early

    def add(self, step: Step) -> Report:
        return attrs.evolve(
            self,
            delivered=self.delivered + len(step.delivered),
            batches=self.batches + (1 if step.delivered else 0),
            parked=self.parked + sum(len(p.entries) for p in step.parked),
            dead_letters=self.dead_letters + len(step.parked),
            position=max(self.position, step.last_position),
            stopped=step.stopped or self.stopped,
        )


def deliver(
    destination: Destination,
    outbox: OutboxView,
    ledger: Ledger,
    policy: RetryPolicy,
    *,
    start_at_end: bool = False,
) -> Report:
    """Deliver everything after the destination's cursor up to the outbox's last position now.
    A destination seen for the first time starts at 0 (all history), or at the end when
    `start_at_end`.

    The run stops early for this destination (`Report.stopped`) when a batch is parked because
    the destination stayed down through every retry, rather than an outage turning the whole
    backlog into dead letters; or when the receiver refused our settings (401, 403, 404), in
    which case nothing is parked and the cursor stays. Either way the events after stay
    pending. `--follow` then rests the destination (`Cooldown`) before the next run.

    A run reads one build of the outbox: when the outbox is rebuilt meanwhile, the run ends
    (`Report.rebuilt`) with the cursor where it was last moved, and the next run finds it
    again in the new build. `OutboxBehind` when a rebuilt outbox has not yet reached the
    cursor's event: catch it up first."""
    build = outbox.build()
    last = outbox.last_position()
    found = ledger.at(destination.name)
    try:
        if found is None:
            start = last if start_at_end else 0
            ledger.start(destination.name, start, outbox, build.generation)
            found = ledger.at(destination.name)
            assert found is not None
        cursor, moved = _anchored(destination.name, found, outbox, ledger, build)
    except ViewRebuilt:
        return Report(destination.name, position=found.position if found else 0, rebuilt=True)
    report = Report(destination.name, position=cursor, relocated_from=moved)
    pending = (e for e in outbox.entries(cursor, generation=build.generation) if e.position <= last)
    try:
        for step in send_all(destination, pending, policy):
            if step.last_position > cursor:
                ledger.advance(
                    destination.name, cursor, step.last_position, step.parked, outbox,
                    build.generation,
                )  # fmt: skip
                cursor = step.last_position
            report = report.add(step)
            if step.stopped is not None:
                break
    except ViewRebuilt:
        # what this batch sent was sent at least once; the cursor stays where it was moved
        return attrs.evolve(report, position=cursor, rebuilt=True)
    return attrs.evolve(report, position=cursor, pending=pending_after(outbox, cursor))


class CursorLost(Exception):
    """The outbox was rebuilt and the event a destination's cursor was at is no longer
    published: where to continue cannot be known; `replay` from a time, then deliver."""


class OutboxBehind(Exception):
    """The outbox was rebuilt and has not yet reached the event a destination's cursor is at:
    catch the outbox up, then deliver."""


def _anchored(
    name: str, found: Cursor, outbox: OutboxView, ledger: Ledger, build: Build
) -> tuple[int, int | None]:
    """The cursor in the outbox's build now: as it is when it was taken in this build;
    otherwise found again by its event's messageId (a rebuild renumbers positions when a newer
    mapping publishes more or fewer events), with the position it moved from when it moved."""
    if found.generation == build.generation:
        return found.position, None
    if found.position == 0 or found.anchor is None:
        ledger.relocate(name, found.position, found.position, outbox, build.generation)
        return found.position, None
    if found.anchor_source is not None and build.position < found.anchor_source:
        raise OutboxBehind(
            f"destination {name!r}: the outbox is being rebuilt and has not reached the event "
            f"its cursor is at ({found.anchor}) yet; catch it up (`engage digest outbox`) "
            "and deliver again"
        )
    position = outbox.position_of(found.anchor, generation=build.generation)
    if position is None:
        raise CursorLost(
            f"destination {name!r}: the outbox was rebuilt and the event its cursor was at "
            f"({found.anchor}) is no longer published; replay from a time (`engage replay "
            f"--destination {name} --from ISO-8601`) to continue"
        )
    ledger.relocate(name, found.position, position, outbox, build.generation)
    return position, (found.position if position != found.position else None)


@attrs.define
class Cooldown:
    """How long each destination rests in `deliver --follow` after a run that stopped (an
    outage, or settings the receiver refused): `first` seconds, or the receiver's Retry-After
    when longer, doubling with each run that stops again, up to `longest`; a run that does not
    stop resets it. Without it, `--follow` would start a fresh run every poll and park one
    more batch each time (and ignore a Retry-After beyond `max_retry_after`): an outage would
    still turn the backlog into dead letters, one batch per poll. With it, an outage parks at
    most one batch per cooldown."""

    first: float = 30.0
    longest: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _until: dict[str, float] = attrs.field(factory=dict, init=False)
    _streak: dict[str, int] = attrs.field(factory=dict, init=False)

    def remaining(self, name: str) -> float:
        """Seconds until `name` may be tried again (0: now)."""
        return max(0.0, self._until.get(name, 0.0) - self.clock())

    def record(self, name: str, report: Report) -> float:
        """Note how a run of `name` ended; the rest it starts, in seconds (0: none)."""
        if report.stopped is None:
            self._until.pop(name, None)
            self._streak.pop(name, None)
            return 0.0
        # a run that delivered something before it stopped found the destination up
        streak = 1 if report.delivered else self._streak.get(name, 0) + 1
        self._streak[name] = streak
        rest = min(self.longest, self.first * 2.0 ** min(streak - 1, 64))
        if report.stopped.retry_after is not None:
            rest = max(rest, report.stopped.retry_after)
        self._until[name] = self.clock() + rest
        return rest


def pending_after(outbox: OutboxView, position: int) -> int:
    """How many outbox events come after `position` (the outbox view has no count of its
    own yet)."""
    with outbox.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM outbox WHERE position > ?", (position,))
        return int(cursor.fetchone()[0])
