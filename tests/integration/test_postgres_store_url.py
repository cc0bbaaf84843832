"""The PostgreSQL store URL: its parameters become eventsourcing's settings, checked, with a
one-line error naming what is wrong and never a password; the schema it names is created and
used; each application keeps its own tables in it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.utils import get_topic, resolve_topic

from adapters.redaction import known_secrets
from adapters.stores import StoreURLError, open_application, store_env
from adapters.stores.postgres import (
    EngagePostgresApplicationRecorder,
    EngagePostgresTrackingRecorder,
    insert_function_name,
)
from adapters.stores.postgres_settings import PARAMETERS, postgres_env
from engage_core import Channel, EngageApplication, Observation

URL = "postgresql://es:s3cret-pw@db.example:5433/engage"
ENGAGE = str(Path(sys.executable).with_name("engage"))


def env_of(url: str, **environ: str) -> dict[str, str]:
    from urllib.parse import urlsplit

    return postgres_env(url, urlsplit(url), environ)


def test_every_setting_is_written_defaults_included() -> None:
    env = env_of(URL)
    assert env["POSTGRES_SCHEMA"] == "public"
    assert env["POSTGRES_POOL_SIZE"] == "5"
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "yes"
    assert len(PARAMETERS) == 10
    for _, (key, default, _check) in PARAMETERS.items():
        assert env[key] == env[f"ENGAGE_{key}"] == default  # a stray ENGAGE_… loses to the URL
    assert resolve_topic(env["APPLICATION_RECORDER_TOPIC"]) is EngagePostgresApplicationRecorder
    assert resolve_topic(env["TRACKING_RECORDER_TOPIC"]) is EngagePostgresTrackingRecorder
    assert env["APPLICATION_RECORDER_TOPIC"] == get_topic(EngagePostgresApplicationRecorder)


def test_parameters_map_to_eventsourcing_settings() -> None:
    query = ("schema=engage&pool_size=12&max_overflow=0&max_waiting=50&connect_timeout=3"
             "&idle_in_transaction_session_timeout=0&lock_timeout=10&conn_max_age=60.5"
             "&pre_ping=yes&enable_db_functions=no")  # fmt: skip
    env = env_of(f"{URL}?{query}")
    assert {key: env[key] for key, _, _ in PARAMETERS.values()} == {
        "POSTGRES_SCHEMA": "engage", "POSTGRES_POOL_SIZE": "12", "POSTGRES_MAX_OVERFLOW": "0",
        "POSTGRES_MAX_WAITING": "50", "POSTGRES_CONNECT_TIMEOUT": "3",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "0", "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_CONN_MAX_AGE": "60.5", "POSTGRES_PRE_PING": "yes",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
    }  # fmt: skip


def test_the_password_from_the_url_else_the_environment() -> None:
    assert env_of(URL, ENGAGE_POSTGRES_PASSWORD="other")["POSTGRES_PASSWORD"] == "s3cret-pw"
    without = "postgresql://es@db.example/engage"
    assert env_of(without, ENGAGE_POSTGRES_PASSWORD="from-env")["POSTGRES_PASSWORD"] == "from-env"
    assert env_of(without)["ENGAGE_POSTGRES_PASSWORD"] == ""  # libpq's ~/.pgpass
    # libpq reads PGPASSWORD only when no password is passed, and one always is: passed on
    assert env_of(without, PGPASSWORD="libpq-pw")["POSTGRES_PASSWORD"] == "libpq-pw"
    assert env_of(without, PGPASSWORD="libpq-pw", ENGAGE_POSTGRES_PASSWORD="ours")[
        "POSTGRES_PASSWORD"] == "ours"  # fmt: skip


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("pool_sise=3&bogus=1", "unknown parameter(s) bogus, pool_sise; known: schema, pool_size"),
        ("sslmode=require", "PGSSLMODE"),
        ("schema=a&schema=b", "given twice: schema"),
        ("pool_size=0", "pool_size must be a whole number, at least 1"),
        ("pool_size=", "pool_size must be"),
        ("connect_timeout=-1", "connect_timeout must be"),
        ("conn_max_age=soon", "conn_max_age must be a number of seconds"),
        ("pre_ping=maybe", "pre_ping must be yes or no"),
        ("schema=Engage", "schema must be a lower-case name"),
        ("schema=a.b", "schema must be"),
    ],
)
def test_bad_parameters_are_one_line_naming_them(query: str, words: str) -> None:
    with pytest.raises(StoreURLError) as raised:
        store_env(f"{URL}?{query}")
    message = str(raised.value)
    assert words in message
    assert "\n" not in message
    assert "s3cret-pw" not in message
    assert message.startswith("'postgresql://es:***@db.example:5433/engage'")


def test_a_password_in_the_query_is_refused_and_kept_secret() -> None:
    with pytest.raises(StoreURLError) as raised:
        store_env("postgresql://es@db.example/engage?password=qu3ry-Secret")
    assert "the password goes in user:password@ or ENGAGE_POSTGRES_PASSWORD" in str(raised.value)
    assert "qu3ry-Secret" not in str(raised.value)
    assert "qu3ry-Secret" in known_secrets({})  # masked wherever it may still appear


def test_the_cli_refuses_an_unknown_parameter_without_the_password() -> None:
    done = subprocess.run(
        [ENGAGE, "--store", f"{URL}?pool_sise=3&password=qu3ry-Secret", "digest"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown parameter(s) password, pool_sise" in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout
    assert "qu3ry-Secret" not in done.stderr + done.stdout


def _tables(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url.split("?")[0]) as connection:
        rows = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return {(schema, table) for schema, table in rows}


def test_the_schema_is_created_and_the_url_beats_the_environment(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGAGE_POSTGRES_SCHEMA", "not_this_one")  # eventsourcing's own lookup
    monkeypatch.setenv("ENGAGE_POSTGRES_POOL_SIZE", "9")
    app = open_application(f"{postgres_url}?schema=engage&pool_size=2&max_overflow=1")
    try:
        datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
        assert (datastore.schema, datastore.pool.min_size, datastore.pool.max_size) == (
            "engage", 2, 3,
        )  # fmt: skip
        assert app.observe([Observation.create("sms", "twilio", "S1", "sent")]).applied == 1
    finally:
        app.close()
    assert _tables(postgres_url) == {("engage", "engage_events")}


def test_the_password_may_come_from_the_environment(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, rest = postgres_url.split("://", 1)[1].split("@", 1)
    password = user.split(":", 1)[1]
    monkeypatch.setenv("ENGAGE_POSTGRES_PASSWORD", password)
    app = open_application(f"postgresql://{user.split(':', 1)[0]}@{rest}")
    try:
        assert app.observe([Observation.create("sms", "twilio", "S1", "sent")]).applied == 1
    finally:
        app.close()


def test_libpqs_pgpassword_opens_the_store(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, rest = postgres_url.split("://", 1)[1].split("@", 1)
    monkeypatch.delenv("ENGAGE_POSTGRES_PASSWORD", raising=False)
    monkeypatch.setenv("PGPASSWORD", user.split(":", 1)[1])
    app = open_application(f"postgresql://{user.split(':', 1)[0]}@{rest}")
    try:
        assert app.observe([Observation.create("sms", "twilio", "S2", "sent")]).applied == 1
    finally:
        app.close()


class Other(EngageApplication):
    """A second application in the same schema: tables of its own."""

    name = "Other"


def test_applications_sharing_a_schema_keep_their_own_tables(postgres_url: str) -> None:
    """With database functions on (the default), eventsourcing's stock insert function is one
    per schema: the second application's replaced the first's, whose events then went into
    the second's table. Each table now has its own."""
    url = f"{postgres_url}?schema=shared"
    engage = EngageApplication(env=store_env(url))
    other = Other(env=store_env(url))
    try:
        engage.observe([Observation.create("sms", "twilio", "E1", "sent")])
        other.observe([Observation.create("sms", "twilio", "O1", "sent")])
        engage.observe([Observation.create("sms", "twilio", "E2", "sent")])
        assert engage.find_message(Channel.SMS, "E2") is not None
        assert engage.find_message(Channel.SMS, "O1") is None
        assert other.find_message(Channel.SMS, "O1") is not None
        assert other.find_message(Channel.SMS, "E2") is None
    finally:
        engage.close()
        other.close()
    assert {t for t in _tables(postgres_url) if t[0] == "shared"} == {
        ("shared", "engage_events"), ("shared", "other_events"),
    }  # fmt: skip


def test_insert_function_names_fit_postgres_identifiers() -> None:
    assert insert_function_name("engage_events") == "es_insert_engage_events"
    long_ones = {insert_function_name("x" * 60 + suffix) for suffix in ("_a", "_b")}
    assert len(long_ones) == 2
    assert all(len(name) <= 63 for name in long_ones)


def test_cli_output_is_json_on_a_schema(postgres_url: str) -> None:
    line = json.dumps({"channel": "sms", "provider": "twilio", "provider_message_id": "m",
                       "status": "sent"})  # fmt: skip
    done = subprocess.run(
        [ENGAGE, "--store", f"{postgres_url}?schema=cli", "observe", "-"], input=line,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["applied"] == 1


def test_docs_scaling_lists_every_parameter_with_its_setting_and_default() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "scaling.md").read_text()
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    documented = {row.split("|")[1].strip(" `"): row for row in rows}
    assert set(documented) == set(PARAMETERS)
    for name, (key, default, _check) in PARAMETERS.items():
        cells = [cell.strip(" `") for cell in documented[name].split("|")]
        assert cells[2:4] == [key, default], (name, cells)
