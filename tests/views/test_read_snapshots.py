"""A view database's read transaction (`transaction(commit=False)`) reads one state of the
views throughout, in both view databases, while other processes commit pages: what a digest,
a row dump or the service's gauges read in several statements belongs together (SQLite's
transaction reads one snapshot; a PostgreSQL statement would otherwise read what is committed
when it starts, so a page committed between two statements would be half seen)."""

from __future__ import annotations

import threading

from adapters.views import catch_up
from tests.views.backends import ViewBackend
from tests.views.test_rebuild_races import filled_app


def test_a_read_transaction_sees_one_state_while_pages_commit(view_backend: ViewBackend) -> None:
    app = filled_app(19)
    location = view_backend.location(shared=True)
    follower, reader = view_backend.views(location), view_backend.views(location)
    outbox = reader.outbox
    following = threading.Thread(target=catch_up, args=(app, [follower.outbox]),
                                 kwargs={"page": 1})  # fmt: skip
    following.start()
    reads = 0
    try:
        while following.is_alive() or not reads:
            with outbox.datastore.transaction(commit=False) as cursor:
                position = cursor.position(outbox.tracking_name)
                cursor.execute("SELECT MAX(source_position), COUNT(*) FROM outbox")
                newest, rows = cursor.fetchone()
                cursor.execute("SELECT MAX(source_position), COUNT(*) FROM outbox")
                again = tuple(cursor.fetchone())
            reads += 1
            # the rows read were applied by the position read, and read alike twice
            assert (newest or 0) <= position, (newest, position)
            assert again == (newest, rows)
    finally:
        following.join()
    assert outbox.position() == app.recorder.max_notification_id()
