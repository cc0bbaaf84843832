"""Shared pieces of the destination tests: an outbox filled through the real application and
catch-up, a retry policy that records its waits instead of sleeping, and the HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from adapters.destinations import Ledger, RetryPolicy
from adapters.stores import open_application
from adapters.views import OutboxEntry, Views, catch_up
from engage_core import Observation
from tests.http_receiver import receiver  # noqa: F401 - the fixture

START = 1_767_225_600  # 2026-01-01T00:00:00Z


def delivered(count: int, first: int = 0, **details: Any) -> list[Observation]:
    """One `SMS Delivered` event each, an hour apart from 2026-01-01."""
    return [
        Observation.create(
            "sms",
            "twilio",
            f"SM{i:06d}",
            "delivered",
            event_id=f"e{i}",
            occurred_at=START + 3600 * i,
            details=details or None,
        )
        for i in range(first, first + count)
    ]


def oversized(name: str, size: int = 40_000) -> Observation:
    """An `Email Bounced` event whose reason alone is `size` bytes."""
    return Observation.create(
        "email", "sendgrid", name, "bounced", event_id=name, occurred_at=START,
        details={"reason": "x" * size, "type": "bounce"},
    )  # fmt: skip


class Outbox:
    """A store in memory, its views, and the delivery ledger."""

    def __init__(self) -> None:
        self.app = open_application("memory://")
        self.views = Views(":memory:", upstream=self.app.name)
        self.ledger = Ledger(self.views.datastore)

    def add(self, observations: Sequence[Observation]) -> list[OutboxEntry]:
        before = self.views.outbox.last_position()
        self.app.observe(list(observations))
        catch_up(self.app, [self.views.outbox])
        return list(self.views.outbox.entries(before))

    @property
    def view(self) -> Any:
        return self.views.outbox

    def message_ids(self) -> set[str]:
        return {entry.message_id for entry in self.views.outbox.entries()}

    def close(self) -> None:
        self.views.close()
        self.app.close()


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    box = Outbox()
    yield box
    box.close()


class Waits(list[float]):
    """The waits a policy asked for, instead of sleeping them."""


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def policy(waits: Waits) -> RetryPolicy:
    """Five attempts, backoff 1, 2, 4, … s (jitter pinned to its maximum), no real sleeping."""
    return RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=30.0, sleep=waits.append,
                       random=lambda: 1.0)  # fmt: skip
