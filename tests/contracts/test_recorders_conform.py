"""Our recorders keep eventsourcing's own recorder contracts, so that a change in the private
methods we override (or call) fails here rather than in production.

- `BatchingSQLiteApplicationRecorder` (adapters/stores/sqlite.py) overrides eventsourcing's
  private `_insert_events` with one `executemany` and computes the batch's notification ids
  from `last_insert_rowid()`: it runs eventsourcing's `ApplicationRecorderTestCase` (contiguous
  ids, atomic batches, concurrent writers on a file), the override is pinned to the method it
  replaces (same signature, and the one `insert_events` calls), and `select_events_of_many`
  agrees with `select_events` for any events and versions.
- Views track their positions through eventsourcing's tracking recorder of their view
  database (adapters/views/database.py, postgres.py): the SQLite and the PostgreSQL one each
  run `TrackingRecorderTestCase` as the view database sets them up (a PostgreSQL views
  schema's `tracking` table), and the private methods views call inside their own
  transactions (`_max_tracking_id`, `_insert_tracking`) are pinned, on both backends.

Our store provides no aggregate or process recorder of its own, and PostgreSQL runs
eventsourcing's stock recorders unchanged (`adapters/stores/urls.py`), so those test cases
are eventsourcing's to run, not ours.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)
from hypothesis import given
from hypothesis import strategies as st

from adapters.stores.sqlite import BatchingSQLiteApplicationRecorder
from adapters.views import SQLiteViewDatabase, View
from adapters.views.postgres import PostgresViewDatabase
from tests.contracts.providers import contract_settings
from tests.contracts.recorders import recorder_test_cases
from tests.views.backends import ViewBackend

if TYPE_CHECKING:
    from eventsourcing.tests import persistence
else:
    persistence = recorder_test_cases()


class _InTemporaryDirectory:
    """A fresh directory per test for the SQLite files (the store is a file, never memory)."""

    directory: Path

    def setUp(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="engage-recorder-"))

    def tearDown(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class TestBatchingSQLiteApplicationRecorder(
    _InTemporaryDirectory,
    persistence.ApplicationRecorderTestCase[BatchingSQLiteApplicationRecorder],
):
    def create_recorder(self) -> BatchingSQLiteApplicationRecorder:
        datastore = SQLiteDatastore(str(self.directory / "events.db"), pool_size=100)
        recorder = BatchingSQLiteApplicationRecorder(datastore)
        recorder.create_table()
        return recorder


class _CountingRecorder(BatchingSQLiteApplicationRecorder):
    calls: ClassVar[list[int]] = []

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self.calls.append(len(stored_events))
        return super()._insert_events(c, stored_events, **kwargs)


def _events(originator: UUID, versions: range) -> list[StoredEvent]:
    return [StoredEvent(originator, v, "topic", f"state{v}".encode()) for v in versions]


def test_the_batching_insert_overrides_the_method_insert_events_calls(tmp_path: Path) -> None:
    ours = inspect.signature(BatchingSQLiteApplicationRecorder._insert_events)
    stock = inspect.signature(SQLiteApplicationRecorder._insert_events)
    assert list(ours.parameters) == list(stock.parameters) == ["self", "c", "stored_events", "_"]
    assert [p.kind for p in ours.parameters.values()] == [p.kind for p in stock.parameters.values()]
    _CountingRecorder.calls.clear()
    recorder = _CountingRecorder(SQLiteDatastore(str(tmp_path / "e.db")))
    recorder.create_table()
    ids = recorder.insert_events(_events(uuid4(), range(1, 4)))
    assert _CountingRecorder.calls == [3]  # insert_events went through the override
    assert ids == [1, 2, 3]
    assert [n.id for n in recorder.select_notifications(start=None, limit=10)] == [1, 2, 3]


@contract_settings
@given(
    st.lists(st.tuples(st.integers(1, 6), st.integers(0, 7)), min_size=1, max_size=6),
    st.integers(1, 3),
)
def test_events_of_many_agree_with_events_of_one(
    aggregates: list[tuple[int, int]], chunks: int
) -> None:
    """Whatever the aggregates, their lengths and the versions asked from, in as many
    batches as drawn: one query for many gives what one query per aggregate gives."""
    with tempfile.TemporaryDirectory() as directory:
        recorder = BatchingSQLiteApplicationRecorder(SQLiteDatastore(f"{directory}/e.db"))
        recorder.create_table()
        since = {uuid4(): after for _, after in aggregates}
        events = [e for (count, _), o in zip(aggregates, since, strict=True)
                  for e in _events(o, range(1, count + 1))]  # fmt: skip
        for start in range(chunks):
            recorder.insert_events(events[start::chunks])
        expected = {o: list(recorder.select_events(o, gt=after)) for o, after in since.items()}
        assert recorder.select_events_of_many(since) == {o: e for o, e in expected.items() if e}
        notifications = recorder.select_notifications(start=None, limit=100)
        assert [n.id for n in notifications] == list(range(1, len(events) + 1))


class _View(View):
    """The smallest view: no tables of its own, only eventsourcing's tracking and the build."""

    name = "contract"
    schema: ClassVar[dict[str, str]] = {}
    order_by: ClassVar[dict[str, str]] = {}


class TestSQLiteViewDatabaseTracksAsEventsourcing(
    _InTemporaryDirectory, persistence.TrackingRecorderTestCase
):
    def create_recorder(self) -> SQLiteTrackingRecorder:
        database = SQLiteViewDatabase(str(self.directory / "views.db"))
        database.create([])
        return database.tracker


@pytest.fixture(scope="class")
def _views_database(request: pytest.FixtureRequest, views_database_url: str) -> None:
    request.cls.database_url = views_database_url


@pytest.mark.usefixtures("_views_database")
class TestPostgresViewDatabaseTracksAsEventsourcing(persistence.TrackingRecorderTestCase):
    """The views schema's tracking, as PostgreSQL views write it (a fresh schema a test)."""

    database_url: ClassVar[str]

    def create_recorder(self) -> PostgresTrackingRecorder:
        backend = ViewBackend("postgresql", self.database_url)
        self.addCleanup(backend.close)
        database = backend.database()
        database.create([])
        assert isinstance(database, PostgresViewDatabase)
        return database.tracker


def test_the_private_tracking_methods_views_call_keep_their_signatures(
    view_backend: ViewBackend,
) -> None:
    for recorder in (SQLiteTrackingRecorder, PostgresTrackingRecorder):
        max_tracking_id = inspect.signature(recorder._max_tracking_id)
        insert_tracking = inspect.signature(recorder._insert_tracking)
        assert list(max_tracking_id.parameters)[:2] == ["self", "application_name"]
        assert list(insert_tracking.parameters)[:3] == ["self", "c", "tracking"] or list(
            insert_tracking.parameters
        )[:3] == ["self", "curs", "tracking"]
    view = _View(view_backend.database(), upstream="Engage")
    with view.datastore.transaction(commit=True) as cursor:
        assert cursor.position(view.tracking_name) == 0
        cursor.record(view.tracking_name, 5)
        assert cursor.position(view.tracking_name) == 5
        cursor.execute("SELECT 1 UNION SELECT 2")
        assert len(cursor.fetchmany(1)) == 1  # the digest pages through it
    assert view.position() == 5
    assert view.build().position == 5
