"""Shared pieces of the destination tests: an outbox filled through the real application and
catch-up, with its delivery ledger in either view database, a retry policy that records its
waits instead of sleeping, and the HTTP receiver.

The outbox and ledger live in SQLite (in memory) unless a module asks for both backends with
`VIEW_BACKENDS = BACKENDS`: then each of its tests that takes `outbox` or `view_backend` runs
on SQLite and on PostgreSQL (a views schema of its own on the session's server). The ledger's
own tests and those about what the ledger records (parking, cursors, relocation) do; tests
about one destination's own ways (a file's rotation, a signature) deliver from SQLite, and the
destination contract (tests/contracts) runs every destination from both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from adapters.destinations import Ledger, RetryPolicy
from adapters.stores import open_application
from adapters.views import OutboxEntry, OutboxView, catch_up
from adapters.views.runner import installed_version
from engage_core import Observation
from engage_core.segment import EventSettings
from tests.http_receiver import receiver  # noqa: F401 - the fixture
from tests.postgres_server import fresh_database
from tests.views.backends import Backend, ViewBackend


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module's `VIEW_BACKENDS` (see the module's docstring) parametrizes its tests."""
    backends = getattr(metafunc.module, "VIEW_BACKENDS", None)
    if backends is not None and "view_backend" in metafunc.fixturenames:
        metafunc.parametrize("view_backend", backends, indirect=True)


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
    """A store in memory, its outbox view (in `backend`'s view database: SQLite in memory by
    default; named as `Views` names its events) and the delivery ledger beside it."""

    def __init__(self, backend: ViewBackend | None = None) -> None:
        self.app = open_application("memory://")
        self.database = (backend or ViewBackend("sqlite")).database()
        settings = EventSettings.from_environment(os.environ, library_version=installed_version())
        self.view = OutboxView(self.database, upstream=self.app.name, settings=settings)
        self.ledger = Ledger(self.database)

    def add(self, observations: Sequence[Observation]) -> list[OutboxEntry]:
        before = self.view.last_position()
        self.app.observe(list(observations))
        catch_up(self.app, [self.view])
        return list(self.view.entries(before))

    def message_ids(self) -> set[str]:
        return {entry.message_id for entry in self.view.entries()}

    def close(self) -> None:
        self.database.close()  # its backend drops a PostgreSQL schema when the test ends
        self.app.close()


@pytest.fixture(scope="session")
def views_database_url(postgres_superuser_url: str) -> str:
    """One database for the session's PostgreSQL outboxes, a schema each."""
    return fresh_database(postgres_superuser_url)


@pytest.fixture
def view_backend(request: pytest.FixtureRequest) -> Iterator[ViewBackend]:
    """SQLite, or each of a module's `VIEW_BACKENDS` (PostgreSQL's server starts only when a
    test needs it)."""
    name: Backend = getattr(request, "param", "sqlite")
    url = request.getfixturevalue("views_database_url") if name == "postgresql" else None
    backend = ViewBackend(name, url)
    yield backend
    backend.close()


@pytest.fixture
def outbox(view_backend: ViewBackend) -> Iterator[Outbox]:
    box = Outbox(view_backend)
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
