"""A stored event whose JSON its class cannot read stops a catch-up with the mapper's
`UnreadableEventError` and moves no view, as when every event was structured by the mapper:
the views read a report's JSON field by field, and without the check of its shape a damaged
one would be projected (the outbox would even publish it), and a skipped one (a
`DuplicateIgnored`) would pass unseen."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.stores import store_env
from adapters.views import Views, catch_up
from adapters.views.message_facts import DUPLICATE_IGNORED, OBSERVED
from engage_core import EngageApplication
from engage_core.serialisation import UnreadableEventError
from tests.views.workload import apply, workload

DAMAGED_REPORTS = {
    "details not an object": {"details": 5},
    "dedup_keys not a list": {"dedup_keys": "notatuple"},
    "outcome unknown": {"outcome": "bogus"},
    "channel unknown": {"channel": "pigeon"},
    "status missing": {"status": None},
    "occurred_at not a time": {"occurred_at": 17},
    "inferred not strings": {"inferred": [1, 2]},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, EngageApplication, Views]]:
    """A SQLite store with a workload's events, its views caught up on them."""
    path = tmp_path / "engage.db"
    app = EngageApplication(env=store_env(f"sqlite:///{path}"))
    views = Views(str(tmp_path / "engage.views.db"))
    for batch in workload(9, messages=5, changes=0):
        apply(app, batch)
    catch_up(app, list(views.by_name.values()))
    yield path, app, views
    views.close()
    app.close()


def _append(path: Path, topic: str, state: dict[str, Any]) -> None:
    """One more stored event, of an aggregate of its own, as a damaged row would be."""
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO stored_events VALUES (?, 1, ?, ?)",
                           ("f" * 32, topic, orjson.dumps(state)))  # fmt: skip


def _a_report(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT state FROM stored_events WHERE topic = ? LIMIT 1", (OBSERVED,)
        ).fetchone()
    state: dict[str, Any] = orjson.loads(row[0])
    return state


def _refused(app: EngageApplication, views: Views) -> None:
    chosen = list(views.by_name.values())
    before = [view.position() for view in chosen]
    with pytest.raises(UnreadableEventError, match="does not match its class"):
        catch_up(app, chosen, page=100_000)
    assert [view.position() for view in chosen] == before
    assert all(position > 0 for position in before)


@pytest.mark.parametrize("damage", DAMAGED_REPORTS.values(), ids=DAMAGED_REPORTS)
def test_a_damaged_report_stops_the_catch_up(
    store: tuple[Path, EngageApplication, Views], damage: dict[str, Any]
) -> None:
    path, app, views = store
    _append(path, OBSERVED, {**_a_report(path), **damage})
    _refused(app, views)


def test_a_damaged_duplicate_every_view_skips_stops_the_catch_up(
    store: tuple[Path, EngageApplication, Views],
) -> None:
    path, app, views = store
    _append(path, DUPLICATE_IGNORED, {"garbage": 1})
    _refused(app, views)


def test_a_sound_report_appended_the_same_way_is_applied(
    store: tuple[Path, EngageApplication, Views],
) -> None:
    """The check refuses the damage, not the way the row was written."""
    path, app, views = store
    _append(path, OBSERVED, _a_report(path))
    chosen = list(views.by_name.values())
    before = [view.position() for view in chosen]
    catch_up(app, chosen)
    assert all(view.position() > was for view, was in zip(chosen, before, strict=True))
