"""Every destination keeps `DestinationContract`: the JSON Lines file, the webhook and Segment
(against the real HTTP receiver of tests/http_receiver.py, which checks the webhook's signature
and Segment's Basic auth), and the SQL table in SQLite and in PostgreSQL (the suite's private
server). Each target fails in its own real way: a file that cannot be created, a receiver
answering 503, a table of another shape in the way."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import strategies as st

from adapters.destinations import (
    Destination,
    JsonlDestination,
    PostgresTableDestination,
    SegmentDestination,
    SqliteTableDestination,
    WebhookDestination,
)
from adapters.destinations.settings import TYPE_KEYS
from tests.contracts.destinations import DestinationContract, Held, Target
from tests.contracts.settings_checks import SECRET, SET_VARIABLE
from tests.http_receiver import Receiver, Reply, running_receiver

HOOK_SECRET = f"whsec_{SECRET}"
WRITE_KEY = f"wk_{SECRET}"
URLS = st.sampled_from(
    [f"https://hooks.example.com/in?token={SECRET}", "http://127.0.0.1:9/x", "ftp://h/x",
     f"https://u:{SECRET}@h/", f"https://h/a b?{SECRET}", "https://h:99999/", "https://ä/x"]
)  # fmt: skip
SQL_URLS = st.sampled_from(
    ["sqlite:///w.db", "sqlite:///", "sqlite://host/w.db", "mysql://h/db", "sqlite:///a\0b",
     f"postgresql://u:{SECRET}@db.example/w", f"postgresql://u:{SECRET}@[::1/db",
     f"postgresql://u:{SECRET}@h/db?foo=bar", f"postgres://u:{SECRET}@h:5432/w?sslmode=require",
     f"postgresql://u:{SECRET}@h/w\0x", f"postgresql://u:{SECRET}@h/w?host=\u00e4"]
)  # fmt: skip
# valid values for the shared keys (TOML_VALUES draws the invalid ones), so that drawn tables
# often get as far as their type's own keys
COMMON_NEAR = {
    "batch_size": st.integers(1, 5000),
    "max_attempts": st.integers(1, 10),
    "timeout": st.floats(0.001, 86_400),
    "start": st.sampled_from(["beginning", "end"]),
}


def without_position(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "position"}


class JsonlTarget(Target):
    def __init__(self, root: Path) -> None:
        self.directory = root / "out"
        self.aside = root / "out.aside"

    def destination(self, batch_size: int) -> Destination:
        return JsonlDestination("file", self.directory / "events.jsonl", batch_size=batch_size)

    def held(self) -> Held:
        file = self.directory / "events.jsonl"  # never rotated: the default max_bytes
        if not file.is_file():
            return []
        lines = [orjson.loads(line) for line in file.read_bytes().splitlines()]
        return [(line["messageId"], without_position(line)) for line in lines]

    def break_(self) -> None:  # a file where the directory must be: nothing can be written
        if self.directory.exists():
            self.directory.rename(self.aside)
        self.directory.write_text("in the way")

    def repair(self) -> None:
        self.directory.unlink()
        if self.aside.exists():
            self.aside.rename(self.directory)


class ReceiverTarget(Target):
    """The HTTP receiver: what it acknowledged (answered 2xx in time) is what it holds."""

    def __init__(self, receiver: Receiver, secret: str | None, write_key: str | None) -> None:
        self.receiver, self.secret, self.write_key = receiver, secret, write_key

    def destination(self, batch_size: int) -> Destination:
        if self.write_key is not None:
            return SegmentDestination("segment", self.write_key, base_url=self.receiver.url,
                                      batch_size=batch_size)  # fmt: skip
        return WebhookDestination("hook", self.receiver.url + "/in", secret=self.secret,
                                  batch_size=batch_size)  # fmt: skip

    def held(self) -> Held:
        for request in self.receiver.requests:
            assert request.signature_ok is not False  # every request signed or authorised
            assert request.auth_ok is not False
        return [(e["messageId"], e) for r in self.receiver.requests if r.acknowledged
                for e in r.events()]  # fmt: skip

    def break_(self) -> None:
        self.receiver.script(*[Reply(503, body=b"down")] * 100)

    def repair(self) -> None:  # the receiver's script cleared, what it received kept
        kept = list(self.receiver.requests)
        self.receiver.reset(secret=self.secret, write_key=self.write_key)
        self.receiver.requests.extend(kept)


class SqlTarget(Target):
    """A SQL table; broken by renaming it away and putting a table of another shape in its
    place (every insert fails), repaired by putting it back."""

    def __init__(self, destination: Destination, connect: Any) -> None:
        self._destination, self.connect = destination, connect
        self.broken = False

    def destination(self, batch_size: int) -> Destination:
        self._destination.batch_size = batch_size
        return self._destination

    def _run(self, statement: str, *, rows: bool = False) -> list[Any]:
        with self.connect() as connection:
            cursor = connection.execute(statement)
            return list(cursor.fetchall()) if rows else []

    def held(self) -> Held:
        table = "segment_events_aside" if self.broken else "segment_events"
        if not self._exists(table):
            return []
        rows = self._run(f"SELECT message_id, body FROM {table} ORDER BY position", rows=True)
        return [(r[0], r[1] if isinstance(r[1], dict) else orjson.loads(r[1])) for r in rows]

    def _exists(self, table: str) -> bool:
        try:
            self._run(f"SELECT 1 FROM {table}")
        except (sqlite3.Error, psycopg.Error):
            return False
        return True

    def break_(self) -> None:
        self._destination.close()
        if self._exists("segment_events"):
            self._run("ALTER TABLE segment_events RENAME TO segment_events_aside")
        self._run("CREATE TABLE segment_events (message_id TEXT PRIMARY KEY)")
        self.broken = True

    def repair(self) -> None:
        self._run("DROP TABLE segment_events")
        if self._exists("segment_events_aside"):
            self._run("ALTER TABLE segment_events_aside RENAME TO segment_events")
        self.broken = False


class TestJsonlConforms(DestinationContract):
    holds_each_once = False
    kind = "jsonl"

    @pytest.fixture
    def target(self, tmp_path: Path) -> Target:
        return JsonlTarget(tmp_path)

    def valid_settings(self) -> dict[str, Any]:
        return {"path": "out/events.jsonl", "max_bytes": 1000, "fsync": False}

    def bad_settings(self) -> list[tuple[dict[str, Any], str]]:
        return [({"paht": "x"}, "unknown key 'paht'"), ({"max_bytes": 0}, "max_bytes must be"),
                ({"path": "a\0b"}, "NUL"), ({"fsync": "yes"}, "fsync must be true or false"),
                ({"path": "~no-such-user-here/x"}, "cannot expand")]  # fmt: skip

    def near_values(self) -> dict[str, st.SearchStrategy[Any]]:
        paths = st.sampled_from(["e.jsonl", "~/e.jsonl", "", "a\0b", "/tmp/x/../e.jsonl"])
        return {**COMMON_NEAR, "path": paths, "max_bytes": st.integers(-1, 10**12)}


class _ReceiverContract(DestinationContract):
    holds_each_once = False
    secret: str | None = None
    write_key: str | None = None

    @pytest.fixture
    def target(self) -> Iterator[Target]:
        with running_receiver(secret=self.secret, write_key=self.write_key) as receiver:
            yield ReceiverTarget(receiver, self.secret, self.write_key)


class TestWebhookConforms(_ReceiverContract):
    kind = "webhook"
    secret = HOOK_SECRET

    def valid_settings(self) -> dict[str, Any]:
        return {"url": f"https://hooks.example.com/in?token={SECRET}", "secret_env": SET_VARIABLE}

    def bad_settings(self) -> list[tuple[dict[str, Any], str]]:
        return [({"url": ""}, "url (or url_env) is required"),
                ({"url": f"ftp://h/{SECRET}"}, "http:// or https://"),
                ({"url": f"https://u:{SECRET}@h/"}, "credentials"),
                ({"url": f"https://h/a b?token={SECRET}"}, "spaces"),
                ({"url_env": "ENGAGE_CONTRACT_UNSET"}, "is not set"),
                ({"url": "https://h/", "secret": SECRET, "secret_env": SET_VARIABLE},
                 "give secret or secret_env, not both")]  # fmt: skip

    def near_values(self) -> dict[str, st.SearchStrategy[Any]]:
        return {**COMMON_NEAR, "url": URLS}


class TestSegmentConforms(_ReceiverContract):
    kind = "segment"
    write_key = WRITE_KEY

    def valid_settings(self) -> dict[str, Any]:
        return {"write_key": WRITE_KEY, "base_url": "https://events.eu1.segmentapis.com"}

    def bad_settings(self) -> list[tuple[dict[str, Any], str]]:
        return [({"write_key": ""}, "write_key (or write_key_env) is required"),
                ({"write_key_env": "ENGAGE_CONTRACT_UNSET"}, "is not set"),
                ({"write_key": SECRET, "base_url": "https://h/ x"}, "base_url must not"),
                ({"write_key": 7}, "write_key must be a string")]  # fmt: skip

    def near_values(self) -> dict[str, st.SearchStrategy[Any]]:
        return {**COMMON_NEAR, "base_url": URLS}


class _SqlContract(DestinationContract):
    holds_each_once = True
    kind = "sql"

    def valid_settings(self) -> dict[str, Any]:
        return {"url": "sqlite:///warehouse.db", "table": "engage_events"}

    def bad_settings(self) -> list[tuple[dict[str, Any], str]]:
        return [({"url": "mysql://h/db"}, "sqlite:/// or postgresql"),
                ({"table": "x; drop"}, "plain SQL name"),
                ({"url": f"postgresql://u:{SECRET}@[::1/db"}, "url is not a valid URL"),
                ({"url": f"postgresql://u:{SECRET}@h/db?foo=bar"}, "not a valid PostgreSQL"),
                ({"url": "sqlite:///a\0b"}, "NUL")]  # fmt: skip

    def near_values(self) -> dict[str, st.SearchStrategy[Any]]:
        tables = st.sampled_from(["segment_events", "x; drop", "", "a" * 64, "_9"])
        return {**COMMON_NEAR, "url": SQL_URLS, "table": tables}


class TestSqliteTableConforms(_SqlContract):
    @pytest.fixture
    def target(self, tmp_path: Path) -> Iterator[Target]:
        database = tmp_path / "warehouse.db"
        destination = SqliteTableDestination("warehouse", database)
        yield SqlTarget(
            destination, lambda: closing(sqlite3.connect(database, isolation_level=None))
        )
        destination.close()


class TestPostgresTableConforms(_SqlContract):
    @pytest.fixture
    def target(self, postgres_url: str) -> Iterator[Target]:
        destination = PostgresTableDestination("warehouse", postgres_url)
        yield SqlTarget(destination, lambda: psycopg.connect(postgres_url, autocommit=True))
        destination.close()


def test_every_destination_type_has_a_conformance_suite() -> None:
    """A destination type added to the settings without a suite here fails this."""
    suites = [
        c for c in globals().values() if isinstance(c, type) and c.__name__.startswith("Test")
    ]
    assert {c.kind for c in suites if issubclass(c, DestinationContract)} == set(TYPE_KEYS)
