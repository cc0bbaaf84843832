"""The contract every destination keeps, as a base class each destination's test subclasses
(`test_destinations_conform.py`), with the promise docs/destinations.md makes:

At least once. The cursor moves only after the destination acknowledged a batch (a 2xx, a
file written and fsynced, a transaction committed) or after the batch was parked; every
event carries a deterministic `messageId` (the same one, with the same body, every time it is
sent), so repeats collapse downstream. Made precise for every destination:

- delivering the outbox twice delivers nothing new: the second run sends nothing and the
  target holds what it held;
- a delivery that failed (the target down, or refusing what it is sent) loses nothing and
  duplicates nothing: every event is parked or still pending, the target holds none of the
  failed batch, and once the target is back, delivering and redriving the dead letters leaves
  each event held exactly once;
- a delivery interrupted after a batch was acknowledged but before the cursor moved (a crash)
  sends that batch, and only that batch, again: a target that upserts by messageId (the SQL
  table) still holds each event once, the others hold the batch twice with the same
  messageIds and bodies (deduplicated downstream, as the docs tell receivers to do);
- a replay sends the same events again, byte for byte the same bodies;
- settings that cannot be used fail `load_settings` with one clean line (`ConfigError`,
  naming the destination, never a secret), whatever the values: `settings_checks.py`.

Each promise is kept whichever view database holds the outbox and the delivery ledger: the
tests that deliver run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from adapters.destinations import (
    Batch,
    Destination,
    RetryPolicy,
    deliver,
    redrive,
    replay,
)
from adapters.views import OutboxEntry
from tests.contracts.settings_checks import SettingsContract
from tests.destinations.conftest import Outbox, delivered
from tests.views.backends import ViewBackend

Held = list[tuple[str, dict[str, Any]]]  # (messageId, Segment body) as the target holds them


class Target(ABC):
    """Where a destination delivers (a file, an HTTP receiver, a table), read back as it holds
    the events, and a way to make it fail until it is repaired."""

    @abstractmethod
    def destination(self, batch_size: int) -> Destination:
        """A destination delivering here, `batch_size` events a batch."""

    @abstractmethod
    def held(self) -> Held:
        """What the target holds (for an HTTP receiver: what it acknowledged), in order."""

    @abstractmethod
    def break_(self) -> None:
        """Make every send fail, in the target's own way, until `repair`."""

    @abstractmethod
    def repair(self) -> None:
        """Undo `break_`: sends succeed again, and what was held before is still held."""


class Crash(Exception):
    """The process died right after the target acknowledged a batch."""


class CrashAfter(Destination):
    """A destination that crashes once its `sends`-th batch was acknowledged: before the
    cursor could move past it."""

    def __init__(self, inner: Destination, sends: int) -> None:
        super().__init__(inner.name, batch_size=inner.batch_size)
        self.inner, self.sends = inner, sends

    def encode(self, entry: OutboxEntry) -> bytes:
        return self.inner.encode(entry)

    def fits(self, count: int, size: int) -> bool:
        return self.inner.fits(count, size)

    def send(self, batch: Batch) -> None:
        self.inner.send(batch)
        self.sends -= 1
        if self.sends == 0:
            raise Crash


def settle(destination: Destination, outbox: Outbox, policy: RetryPolicy) -> None:
    """Deliver until nothing is pending, then redrive every dead letter until none is left."""
    for _ in range(20):
        if deliver(destination, outbox.view, outbox.ledger, policy).pending == 0:
            break
    for _ in range(20):
        letters = outbox.ledger.dead_letters(destination.name)
        if not letters:
            return
        for letter in letters:
            redrive(destination, letter, outbox.ledger, policy)
    raise AssertionError(f"still parked: {outbox.ledger.dead_letters(destination.name)}")


def held_ids(target: Target) -> Counter[str]:
    return Counter(message_id for message_id, _ in target.held())


def assert_same_bodies(target: Target, entries: list[OutboxEntry]) -> None:
    """Each messageId the target holds carries its outbox body, however often it came."""
    bodies = {entry.message_id: entry.body for entry in entries}
    for message_id, body in target.held():
        assert body == bodies[message_id], message_id


class DestinationContract(SettingsContract, ABC):
    """Subclass with a `target` fixture; pytest collects the subclass (named `Test…`)."""

    holds_each_once: ClassVar[bool]  # the target upserts by messageId: repeats collapse there

    @pytest.fixture
    def outbox(self, view_backend: ViewBackend) -> Iterator[Outbox]:
        """The outbox and ledger in each view database (tests/contracts/conftest.py)."""
        box = Outbox(view_backend)
        yield box
        box.close()

    @pytest.fixture
    def policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=3, sleep=lambda _: None)

    @pytest.fixture
    def target(self) -> Target:
        raise NotImplementedError("a destination's suite supplies its target")

    def test_delivering_twice_delivers_nothing_new(
        self, target: Target, outbox: Outbox, policy: RetryPolicy
    ) -> None:
        entries = outbox.add(delivered(7))
        destination = target.destination(batch_size=3)
        first = deliver(destination, outbox.view, outbox.ledger, policy)
        assert (first.delivered, first.batches, first.pending) == (7, 3, 0)
        held = target.held()
        again = deliver(destination, outbox.view, outbox.ledger, policy)
        assert (again.delivered, again.batches, again.parked, again.pending) == (0, 0, 0, 0)
        assert target.held() == held
        entries += outbox.add(delivered(2, first=7))
        assert deliver(destination, outbox.view, outbox.ledger, policy).delivered == 2
        assert held_ids(target) == Counter(e.message_id for e in entries)
        assert_same_bodies(target, entries)
        assert outbox.ledger.cursor(destination.name) == entries[-1].position

    def test_a_failed_delivery_resumes_without_loss_or_duplication(
        self, target: Target, outbox: Outbox, policy: RetryPolicy
    ) -> None:
        entries = outbox.add(delivered(7))
        destination = target.destination(batch_size=3)
        target.break_()
        failed = deliver(destination, outbox.view, outbox.ledger, policy)
        assert (failed.delivered, target.held()) == (0, [])
        assert failed.parked + failed.pending == 7  # each parked or pending: none lost
        target.repair()
        settle(destination, outbox, policy)
        assert held_ids(target) == Counter(e.message_id for e in entries)  # each once
        assert_same_bodies(target, entries)
        assert outbox.ledger.cursor(destination.name) == entries[-1].position

    @pytest.mark.parametrize("sends", [1, 2])
    def test_a_crash_before_the_cursor_moved_resends_only_the_batch_in_flight(
        self, target: Target, outbox: Outbox, policy: RetryPolicy, sends: int
    ) -> None:
        entries = outbox.add(delivered(7))
        destination = target.destination(batch_size=3)
        with pytest.raises(Crash):
            deliver(CrashAfter(destination, sends), outbox.view, outbox.ledger, policy)
        in_flight = entries[3 * (sends - 1) : 3 * sends]
        acknowledged = entries[: 3 * (sends - 1)]  # the batches whose cursor move committed
        moved = acknowledged[-1].position if acknowledged else 0
        assert outbox.ledger.cursor(destination.name) == moved
        settle(destination, outbox, policy)
        expected = Counter(e.message_id for e in entries)
        if not self.holds_each_once:
            expected.update(e.message_id for e in in_flight)  # at least once: this batch twice
        assert held_ids(target) == expected
        assert_same_bodies(target, entries)

    def test_a_replay_sends_the_same_events_again(
        self, target: Target, outbox: Outbox, policy: RetryPolicy
    ) -> None:
        entries = outbox.add(delivered(5))
        destination = target.destination(batch_size=2)
        deliver(destination, outbox.view, outbox.ledger, policy)
        held = target.held()
        assert replay(destination, outbox.view, outbox.ledger, policy).delivered == 5
        if self.holds_each_once:
            assert target.held() == held
        else:
            assert target.held() == held + held
        assert_same_bodies(target, entries)
        assert outbox.ledger.cursor(destination.name) == entries[-1].position
