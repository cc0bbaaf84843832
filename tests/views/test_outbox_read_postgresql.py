"""PostgreSQL only: a page of the outbox read for one build is never a page of another. Each
statement of a PostgreSQL transaction reads what was committed when it started (SQLite's
transaction reads one snapshot throughout), so a reader that checked the build, then waited
for the outbox table while a rebuild dropped it, would read the new build's rows as positions
of the old one; a deliverer would then send them as if they came after its cursor. The read
must be refused (`ViewRebuilt`) instead.

The rebuild is played by the port's own cursor in a second connection: the rebuild's drop and
its first page in one transaction held open until the reader waits for the table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from adapters.views import OutboxEntry, OutboxView, catch_up
from adapters.views.base import ViewRebuilt
from adapters.views.database import ViewDatabase
from adapters.views.postgres import PostgresViewDatabase, postgres_ddl
from engage_core import Observation
from tests.views.backends import ViewBackend
from tests.views.conftest import memory_app

READ = "SELECT position, message_id, event, body, source_position FROM outbox"


@pytest.fixture
def postgres(views_database_url: str) -> Iterator[ViewBackend]:
    backend = ViewBackend("postgresql", views_database_url)
    yield backend
    backend.close()


def waiting_for_a_lock(url: str, timeout: float = 10.0) -> None:
    """Until a session waits for a lock on the outbox's read."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            found = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE %s",
                (READ + "%",),
            ).fetchone()
            if found and found[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the reader never waited for the outbox table")


def rebuild_held_open(
    database: ViewDatabase, outbox: OutboxView, ready: threading.Event, go: threading.Event
) -> None:
    """Drop the outbox, fill its first page of a new build, and commit only when told."""
    with database.transaction(commit=True) as cursor:
        cursor.lock(outbox.tracking_name)
        cursor.execute("DROP TABLE outbox")
        cursor.execute(postgres_ddl(OutboxView.schema["outbox"]))
        cursor.execute(
            "INSERT INTO outbox (position, message_id, event, source_position, body) "
            "VALUES (1, 'of-the-new-build', 'Event', 1, ?)",
            (b'{"event": "Event"}',),
        )
        cursor.execute(
            "UPDATE view_generations SET generation = 'new', applied = 1 WHERE view = ?",
            (outbox.tracking_name,),
        )
        ready.set()
        assert go.wait(timeout=4)  # within the store's idle-in-transaction timeout (5 s)


def test_a_page_read_while_a_rebuild_commits_is_refused(postgres: ViewBackend) -> None:
    location = postgres.location(shared=True)
    reader, rebuilder = postgres.database(location), postgres.database(location)
    assert isinstance(reader, PostgresViewDatabase)
    app = memory_app()
    outbox = OutboxView(reader, upstream=app.name)
    app.observe([Observation.create("sms", "twilio", "SM1", "delivered", event_id="e1")])
    catch_up(app, [outbox])
    old = outbox.generation()
    ready, go = threading.Event(), threading.Event()
    rebuild = threading.Thread(target=rebuild_held_open, args=(rebuilder, outbox, ready, go))
    rebuild.start()
    assert ready.wait(timeout=10)
    found: list[list[OutboxEntry] | Exception] = []

    def read() -> None:
        try:
            found.append(outbox.read(0, generation=old))
        except ViewRebuilt as refused:
            found.append(refused)

    reading = threading.Thread(target=read)
    reading.start()
    try:
        waiting_for_a_lock(location.split("?")[0])
    finally:
        go.set()
        rebuild.join(timeout=10)
        reading.join(timeout=10)
        app.close()
    (result,) = found
    assert isinstance(result, ViewRebuilt), f"read for the old build, got {result}"
