"""Bytes of PostgreSQL store per event and per message: the log's table and the views' schema
after simulated traffic, indexes included (`pg_total_relation_size`), for sizing a disk.

    .venv/bin/python -m benchmarks.postgres_size [MESSAGES]

On a private server started as the test suite starts its own (`tests/postgres_server.py`).
"""

from __future__ import annotations

import sys

import psycopg

from adapters.stores import open_application
from adapters.views import Views, catch_up
from engage_core.observations import Observation
from engage_core.simulation import simulate

BATCH = 1000


def measure(messages: int) -> str:
    """One line: events, messages, and bytes per event of the log and of the views."""
    from tests.postgres_server import fresh_database, postgres_server  # the suite's server

    with postgres_server() as superuser:
        database = fresh_database(superuser)
        app = open_application(database + "?schema=engage")
        inputs = [
            i for i in simulate(seed=5, messages=messages).inputs if isinstance(i, Observation)
        ]
        for start in range(0, len(inputs), BATCH):
            app.observe(inputs[start : start + BATCH])
        views = Views(database + "?schema=engage", upstream=app.name)
        catch_up(app, list(views.by_name.values()))
        views.close()
        events = app.recorder.max_notification_id() or 0
        app.close()
        with psycopg.connect(database) as connection:
            log = connection.execute(
                "SELECT pg_total_relation_size('engage.engage_events')"
            ).fetchone()
            kept = connection.execute(
                "SELECT SUM(pg_total_relation_size(c.oid)), "
                "(SELECT COUNT(*) FROM engage_views.message_status) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'engage_views' AND c.relkind = 'r'"
            ).fetchone()
    assert log is not None
    assert kept is not None
    log_bytes, view_bytes, stored = int(log[0]), int(kept[0]), int(kept[1])
    if not events or not stored:
        return "nothing was stored"
    return (
        f"{len(inputs):,} observations, {events:,} events, {stored:,} messages: log "
        f"{log_bytes / events:,.0f} bytes an event, views {view_bytes / events:,.0f} bytes an "
        f"event, {(log_bytes + view_bytes) / stored:,.0f} bytes a message all told"
    )


if __name__ == "__main__":
    print(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 6000))
