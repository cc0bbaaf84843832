"""Store URLs become eventsourcing settings, or a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.stores import (
    DEFAULT_STORE_URL,
    StoreURLError,
    open_application,
    store_env,
    store_url_from_environment,
)
from engage_core import Observation


def test_sqlite_relative_and_absolute(tmp_path: Path) -> None:
    assert store_env("sqlite:///engage.db")["SQLITE_DBNAME"] == "engage.db"
    absolute = store_env(f"sqlite:///{tmp_path}/e.db")
    assert absolute["SQLITE_DBNAME"] == f"{tmp_path}/e.db"
    assert absolute["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"


def test_postgres_url() -> None:
    env = store_env("postgresql://es:s%40cret@127.0.0.1:54329/engage?connect_timeout=5")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "127.0.0.1", "54329", "engage",
    )  # fmt: skip
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("es", "s@cret")
    assert env["POSTGRES_CONNECT_TIMEOUT"] == "5"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://x/y", "unknown store"),
        ("sqlite://host/e.db", "no host"),
        ("sqlite:///", "no file name"),
        ("sqlite:////no/such/directory/e.db", "does not exist"),
        ("postgresql://localhost", "expected postgresql://"),
        ("engage.db", "unknown store"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(StoreURLError, match=words):
        store_env(url)


def test_environment_then_default() -> None:
    assert store_url_from_environment({}) == DEFAULT_STORE_URL == "sqlite:///engage.db"
    assert store_url_from_environment({"ENGAGE_STORE": "memory://"}) == "memory://"


def test_memory_store_works() -> None:
    app = open_application("memory://")
    result = app.observe([Observation.create("sms", "twilio", "SM1", "sent")])
    assert result.applied == 1
    app.close()
