"""Sending history again: `replay` from an outbox position beside live delivery, and
`redrive` of a dead letter. Both go through `delivery.send_all` as live delivery does; neither
moves the live cursor (the deterministic messageIds collapse the repeats downstream).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import attrs

from adapters.destinations.base import Destination
from adapters.destinations.delivery import Report, RetryPolicy, send_all
from adapters.destinations.ledger import DeadLetter, Ledger, Parked
from adapters.views import OutboxEntry, OutboxView


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
    parked (source "replay") and redriven like any dead letter.

    Replay stops where a run of `deliver` would (`Report.stopped`): at the first batch that
    gave up through an outage (parked), or when the receiver refused our settings. Going on
    would park all history, batch after batch, during an outage. `pending` then counts the
    events not replayed, and a replay from `position + 1` resumes.

    Positions are those of the outbox's build when the replay starts: `ViewRebuilt` if the
    outbox is rebuilt during the replay (run it again)."""
    generation = outbox.generation()
    last = outbox.last_position()

    def chosen(after: int) -> Iterator[OutboxEntry]:
        return (
            e
            for e in outbox.entries(after, generation=generation)
            if e.position <= last and (keep is None or keep(e))
        )

    report = Report(destination.name, position=max(from_position, 1) - 1)
    for step in send_all(destination, chosen(report.position), policy):
        if step.parked:
            ledger.park(destination.name, "replay", step.parked)
        report = report.add(step)
        if step.stopped is not None:
            return attrs.evolve(report, pending=sum(1 for _ in chosen(report.position)))
    return report


def redrive(
    destination: Destination, letter: DeadLetter, ledger: Ledger, policy: RetryPolicy
) -> Report:
    """Send a dead letter's events again. Delivered: the letter is marked redriven. Still
    failing: it keeps what failed, with the new reason (see `Ledger.settle`). When the
    destination stops on the way (`Report.stopped`), what was not tried stays in the letter;
    refused settings with nothing delivered leave the letter exactly as it was."""
    report = Report(destination.name)
    still: list[Parked] = []
    untried: tuple[OutboxEntry, ...] = ()
    for step in send_all(destination, letter.entries, policy):
        still.extend(step.parked)
        report = report.add(step)
        if step.stopped is not None:
            untried = tuple(e for e in letter.entries if e.position > step.last_position)
    stopped = report.stopped
    if stopped is not None:
        if stopped.misconfigured and not report.delivered and not still:
            return report  # nothing was tried: the letter stays as it was
        if untried and still and not stopped.misconfigured:
            # the part that gave up and the rest after it: one letter, as before
            gave_up = still.pop()
            still.append(attrs.evolve(gave_up, entries=gave_up.entries + untried))
        elif untried:
            still.append(Parked(untried, stopped.reason, 0))
    ledger.settle(letter, still)
    return report
