"""The SQL destination: `segment_events` upserted by messageId, in SQLite and PostgreSQL;
delivering twice leaves the same rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import psycopg

from adapters.destinations import (
    PostgresTableDestination,
    RetryPolicy,
    SqliteTableDestination,
    deliver,
    replay,
)
from tests.destinations.conftest import Outbox, delivered


def test_sqlite_rows_and_idempotent_upsert(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path
) -> None:
    entries = outbox.add(delivered(30))
    database = tmp_path / "warehouse.db"
    table = SqliteTableDestination("warehouse", database, batch_size=8)
    deliver(table, outbox.view, outbox.ledger, policy)
    replay(table, outbox.view, outbox.ledger, policy)  # everything again
    table.close()
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT message_id, position, event, user_id, anonymous_id, timestamp, properties, "
            "body FROM segment_events ORDER BY position"
        ).fetchall()
        by_json = connection.execute(
            "SELECT COUNT(*) FROM segment_events "
            "WHERE json_extract(properties, '$.channel') = 'sms'"
        ).fetchone()[0]
    assert len(rows) == 30
    assert by_json == 30
    for row, entry in zip(rows, entries, strict=True):
        assert row[:3] == (entry.message_id, entry.position, entry.event)
        assert row[3:6] == (
            entry.body.get("userId"), entry.body.get("anonymousId"), entry.body["timestamp"],
        )  # fmt: skip
        assert orjson.loads(row[6]) == entry.body["properties"]
        assert orjson.loads(row[7]) == entry.body


def test_postgres_rows_and_idempotent_upsert(
    outbox: Outbox, policy: RetryPolicy, postgres_url: str
) -> None:
    entries = outbox.add(delivered(20))
    table = PostgresTableDestination("warehouse", postgres_url, table="engage_events")
    report = deliver(table, outbox.view, outbox.ledger, policy)
    assert report.delivered == 20
    replay(table, outbox.view, outbox.ledger, policy, from_position=entries[10].position)
    table.close()
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT message_id, position, event, properties, body, "
            "timestamp = %s::timestamptz FROM engage_events ORDER BY position",
            (entries[0].body["timestamp"],),
        ).fetchall()
    assert [r[0] for r in rows] == [e.message_id for e in entries]
    assert rows[0][3] == entries[0].body["properties"]  # JSONB, back as a dict
    assert rows[0][4] == entries[0].body
    assert rows[0][5] is True


def test_postgres_down_is_transient(outbox: Outbox, policy: RetryPolicy) -> None:
    outbox.add(delivered(1))
    table = PostgresTableDestination("warehouse", "postgresql://nobody:pw@127.0.0.1:9/none")
    deliver(table, outbox.view, outbox.ledger, policy)
    (letter,) = outbox.ledger.dead_letters()
    assert letter.attempts == 5
    assert letter.reason.startswith("PostgreSQL:")
    assert "pw" not in letter.reason.replace("password", "")


def test_a_malformed_postgres_url_stops_without_showing_it(
    outbox: Outbox, policy: RetryPolicy
) -> None:
    outbox.add(delivered(2))
    # settings refuse this URL; built directly, libpq's message quotes it, password and all
    table = PostgresTableDestination("warehouse", "postgresql://u:s3cret@[::1/db")
    report = deliver(table, outbox.view, outbox.ledger, policy)
    assert report.stopped is not None
    assert report.stopped.misconfigured  # every batch would fail alike: nothing parked
    assert report.stopped.reason == (
        "PostgreSQL: the connection URL cannot be used (ProgrammingError)"
    )
    assert outbox.ledger.dead_letters() == []
    assert report.pending == 2
