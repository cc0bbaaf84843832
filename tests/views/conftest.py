"""Fresh applications and views for the view tests, on both view databases: every test that
takes `views` or `view_backend` runs once on SQLite (in memory, so a property's examples are
cheap; files where several processes share them) and once on PostgreSQL (a fresh views schema
on the session's private server): one suite holding both backends to the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.views import View, Views
from engage_core import EngageApplication
from tests.conftest import FIXED_TIME
from tests.postgres_server import fresh_database
from tests.views.backends import BACKENDS, ViewBackend

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def memory_app() -> EngageApplication:
    """An application in memory with a fixed clock, so recorded times compare exactly."""
    return EngageApplication(env=MEMORY, clock=lambda: FIXED_TIME)


def rows(view: View) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a view, in digest order: what "equal" means, shown whole
    when it fails."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with view.datastore.transaction(commit=False) as cursor:
        for table in view.schema:
            cursor.execute(f"SELECT * FROM {table} ORDER BY {view.order_by[table]}")
            found[table] = [tuple(row) for row in cursor.fetchall()]
    return found


@pytest.fixture(scope="session")
def views_database_url(postgres_superuser_url: str) -> str:
    """One database for the session's PostgreSQL views: each test's views get schemas of
    their own in it (quicker than a database each)."""
    return fresh_database(postgres_superuser_url)


@pytest.fixture(params=BACKENDS)
def view_backend(request: pytest.FixtureRequest) -> Iterator[ViewBackend]:
    """The backend a test runs on; PostgreSQL's server starts only when a test needs it."""
    url = request.getfixturevalue("views_database_url") if request.param == "postgresql" else None
    backend = ViewBackend(request.param, url)
    yield backend
    backend.close()


@pytest.fixture
def app() -> Iterator[EngageApplication]:
    application = memory_app()
    yield application
    application.close()


@pytest.fixture
def views(view_backend: ViewBackend) -> Views:
    return view_backend.views()
