"""Shared test settings: Hypothesis profiles and real stores.

Profiles: `default` (CI-sized, a few seconds per property) and `slow` (thousands of examples,
`make test-slow` or HYPOTHESIS_PROFILE=slow).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import Recording
from hypothesis import HealthCheck, settings

from adapters.stores import store_env
from engage_core import EngageApplication
from tests.postgres_server import fresh_database, postgres_server

settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "slow", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FIXED_TIME = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def sqlite_env(path: Path) -> dict[str, str]:
    """The settings `engage --store sqlite:///…` uses: the batching recorder included."""
    return store_env(f"sqlite:///{path}")


def stock_sqlite_env(path: Path) -> dict[str, str]:
    """eventsourcing's own SQLite recorder, so the one-query-per-message path stays tested."""
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def record_saves(
    app: EngageApplication, monkeypatch: pytest.MonkeyPatch
) -> list[list[Recording[UUID]]]:
    """What each call of `app.save` returned, in order: the real save still does the work, so a
    test can count the saves a batch takes and read the notification ids they wrote."""
    saves: list[list[Recording[UUID]]] = []
    original = app.save

    def recording_save(
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        recordings = original(*objs, **kwargs)
        saves.append(recordings)
        return recordings

    monkeypatch.setattr(app, "save", recording_save)
    return saves


@pytest.fixture(scope="session")
def postgres_superuser_url() -> Iterator[str]:
    """A PostgreSQL server of the session's own, started on first use."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_superuser_url: str) -> str:
    """A fresh database on the session's server, as a store URL."""
    return fresh_database(postgres_superuser_url)


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[EngageApplication]:
    """An application on a real SQLite file, with a fixed clock so states compare exactly."""
    app = EngageApplication(env=sqlite_env(tmp_path / "engage.db"), clock=lambda: FIXED_TIME)
    yield app
    app.close()
