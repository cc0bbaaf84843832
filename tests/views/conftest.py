"""Fresh applications and views for the view tests: in memory, so a property's examples are
cheap (the SQLite files are exercised by the CLI test)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.views import SQLiteView, Views
from engage_core import EngageApplication
from tests.conftest import FIXED_TIME

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def memory_app() -> EngageApplication:
    """An application in memory with a fixed clock, so recorded times compare exactly."""
    return EngageApplication(env=MEMORY, clock=lambda: FIXED_TIME)


def rows(view: SQLiteView) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a view, in digest order: what "equal" means, shown whole
    when it fails."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with view.datastore.transaction(commit=False) as cursor:
        for table in view.schema:
            cursor.execute(f"SELECT * FROM {table} ORDER BY {view.order_by[table]}")
            found[table] = [tuple(row) for row in cursor.fetchall()]
    return found


@pytest.fixture
def app() -> Iterator[EngageApplication]:
    application = memory_app()
    yield application
    application.close()


@pytest.fixture
def views() -> Iterator[Views]:
    kept = Views(":memory:")
    yield kept
    kept.close()
