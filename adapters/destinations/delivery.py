"""Delivery, the same for every destination: pack outbox entries into batches within the
destination's limits, send each with retries (exponential backoff with full jitter, honouring
`Retry-After`), and park what still fails in dead letters. Never drop an event: every entry
ends up acknowledged by the destination or parked with its reason.

`send_all` yields one `Step` per batch; the callers decide what a step commits: `deliver`
moves the live cursor (in the same transaction as the parking), `replay` only parks, and
`redrive` settles the dead letter it came from.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

import attrs

from adapters.destinations.base import (
    Batch,
    DeliveryFailed,
    Destination,
    TransientFailure,
    Unacceptable,
)
from adapters.destinations.ledger import DeadLetter, Ledger, Parked
from adapters.views import OutboxEntry, OutboxView


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
class Step:
    """One batch's outcome and the events refused on the way to it. Every outbox entry up to
    `last_position` (of those given) is in `delivered` or `parked`."""

    delivered: tuple[OutboxEntry, ...]
    parked: tuple[Parked, ...]
    last_position: int


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


def attempt(destination: Destination, batch: Batch, policy: RetryPolicy) -> Parked | None:
    """Send one batch until it is acknowledged (None) or must be parked (why, how often)."""
    tries = 0
    while True:
        tries += 1
        try:
            destination.send(batch)
            return None
        except DeliveryFailed as failure:
            if not failure.transient or tries >= policy.max_attempts:
                return Parked(batch.entries, _reason(failure, tries), tries, failure.transient)
            wait = policy.backoff(tries)
            if isinstance(failure, TransientFailure) and failure.retry_after is not None:
                if failure.retry_after > policy.max_retry_after:
                    reason = f"{failure.reason}; asked to wait {failure.retry_after:.0f} s"
                    return Parked(batch.entries, reason, tries, transient=True)
                wait = failure.retry_after
            policy.sleep(wait)


def _reason(failure: DeliveryFailed, tries: int) -> str:
    if failure.transient:
        return f"{failure.reason} (gave up after {tries} attempts)"
    return failure.reason


def send_all(
    destination: Destination, entries: Iterable[OutboxEntry], policy: RetryPolicy
) -> Iterator[Step]:
    """Send every entry: one `Step` per batch, in outbox order."""
    for batch, refused in batches(destination, entries):
        parked = list(refused)
        delivered: tuple[OutboxEntry, ...] = ()
        if batch is not None:
            failed = attempt(destination, batch, policy)
            if failed is None:
                delivered = batch.entries
            else:
                parked.append(failed)
        positions = [e.position for e in delivered] + [
            e.position for p in parked for e in p.entries
        ]
        yield Step(delivered, tuple(parked), max(positions))


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

    def add(self, step: Step) -> Report:
        return attrs.evolve(
            self,
            delivered=self.delivered + len(step.delivered),
            batches=self.batches + (1 if step.delivered else 0),
            parked=self.parked + sum(len(p.entries) for p in step.parked),
            dead_letters=self.dead_letters + len(step.parked),
            position=max(self.position, step.last_position),
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

    When a batch is parked because the destination stayed down through every retry, the run
    stops there for this destination: the events after it stay pending for the next run,
    rather than an outage turning the whole backlog into dead letters."""
    last = outbox.last_position()
    cursor = ledger.cursor(destination.name)
    if cursor is None:
        cursor = ledger.start(destination.name, last if start_at_end else 0)
    report = Report(destination.name, position=cursor)
    pending = (e for e in outbox.entries(cursor) if e.position <= last)
    for step in send_all(destination, pending, policy):
        ledger.advance(destination.name, cursor, step.last_position, step.parked)
        cursor = step.last_position
        report = report.add(step)
        if any(p.transient for p in step.parked):
            break
    return attrs.evolve(report, pending=pending_after(outbox, cursor))


def pending_after(outbox: OutboxView, position: int) -> int:
    """How many outbox events come after `position` (the outbox view has no count of its
    own yet)."""
    with outbox.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM outbox WHERE position > ?", (position,))
        return int(cursor.fetchone()[0])


def since(moment: datetime) -> Callable[[OutboxEntry], bool]:
    """Entries whose event `timestamp` is at or after `moment` (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)

    def keep(entry: OutboxEntry) -> bool:
        stamp = datetime.fromisoformat(str(entry.body.get("timestamp")))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp >= moment

    return keep


def replay(
    destination: Destination,
    outbox: OutboxView,
    ledger: Ledger,
    policy: RetryPolicy,
    *,
    from_position: int = 1,
    keep: Callable[[OutboxEntry], bool] | None = None,
) -> Report:
    """Send history again from an outbox position (and/or only events `keep` accepts), up to
    the outbox's last position now. The live cursor does not move: replay runs beside live
    delivery, and the deterministic messageIds collapse the repeats downstream. What fails is
    parked (source "replay") and redriven like any dead letter."""
    last = outbox.last_position()
    chosen = (
        e
        for e in outbox.entries(max(from_position, 1) - 1)
        if e.position <= last and (keep is None or keep(e))
    )
    report = Report(destination.name, position=max(from_position, 1) - 1)
    for step in send_all(destination, chosen, policy):
        if step.parked:
            ledger.park(destination.name, "replay", step.parked)
        report = report.add(step)
    return report


def redrive(
    destination: Destination, letter: DeadLetter, ledger: Ledger, policy: RetryPolicy
) -> Report:
    """Send a dead letter's events again. Delivered: the letter is marked redriven. Still
    failing: it keeps what failed, with the new reason (see `Ledger.settle`)."""
    report = Report(destination.name)
    still: list[Parked] = []
    for step in send_all(destination, letter.entries, policy):
        still.extend(step.parked)
        report = report.add(step)
    ledger.settle(letter, still)
    return report
