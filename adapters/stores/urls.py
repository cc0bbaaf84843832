"""Store URLs: what each means as eventsourcing settings, and clear errors for the rest.

`sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, `memory://` (tests) and
`postgresql://user:password@host:port/dbname?schema=…&pool_size=…` (needs the `postgres`
extra; its parameters are `adapters.stores.postgres_settings`). SQLite names its tables the
same whatever the application is called, so each eventsourcing application gets a file of its
own; views derive their own file names from this one. On PostgreSQL each application's tables
are named after it (`engage_events`). No password is ever part of a message.

eventsourcing is imported where it is used, not here: the CLI reads `STORE_ENV_VAR` and
`StoreURLError` before any verb has run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from adapters.redaction import redact_url

DEFAULT_STORE_URL = "sqlite:///engage.db"
STORE_ENV_VAR = "ENGAGE_STORE"


__all__ = [
    "DEFAULT_STORE_URL",
    "STORE_ENV_VAR",
    "StoreURLError",
    "store_env",
    "store_url_from_environment",
]


class StoreURLError(ValueError):
    """A store URL we cannot use, with what was wrong and what would work."""


def store_url_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """`ENGAGE_STORE` when set, else the embedded SQLite default."""
    environ = os.environ if environ is None else environ
    return environ.get(STORE_ENV_VAR) or DEFAULT_STORE_URL


def store_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for a store URL."""
    try:
        return _store_env(url)
    except ValueError as error:  # urlsplit and .port refuse malformed URLs with ValueError
        if isinstance(error, StoreURLError):
            raise
        # urllib's reason may quote part of the URL, a piece of its password included (a `/`
        # in the password makes the rest read as a port): say what is wrong without it
        reason = "its port is not a number" if "port" in str(error).lower() else "malformed"
        raise StoreURLError(
            f"{_shown(url)!r}: not a valid URL ({reason}; a password holding / ? # @ or : "
            "must be percent-encoded)"
        ) from error


def _shown(url: str) -> str:
    """The URL as messages quote it: its password never (a store URL carries one)."""
    return redact_url(url)


def _store_env(url: str) -> dict[str, str]:
    if not url.strip():
        raise StoreURLError("empty store URL; for example sqlite:///engage.db")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        return _sqlite_env(url, parts)
    if scheme in {"postgresql", "postgres"}:
        return _postgres_env(url, parts)
    raise StoreURLError(
        f"{_shown(url)!r}: unknown store; use sqlite:///path.db, postgresql://… or memory://"
    )


def _sqlite_env(url: str, parts: SplitResult) -> dict[str, str]:
    from eventsourcing.utils import get_topic

    from adapters.stores.sqlite import BatchingSQLiteApplicationRecorder

    if parts.netloc:
        raise StoreURLError(
            f"{_shown(url)!r}: a SQLite URL has no host; use sqlite:///relative.db "
            "or sqlite:////absolute/path.db"
        )
    path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
    if not path:
        raise StoreURLError(f"{_shown(url)!r}: no file name; for example sqlite:///engage.db")
    if path != ":memory:":
        parent = Path(path).expanduser().resolve().parent
        if not parent.is_dir():
            raise StoreURLError(f"{_shown(url)!r}: directory {parent} does not exist")
        path = str(Path(path).expanduser())
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "APPLICATION_RECORDER_TOPIC": get_topic(BatchingSQLiteApplicationRecorder),
        # other processes' write transactions are waited for, not failed on (default 5 s)
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def _postgres_env(url: str, parts: SplitResult) -> dict[str, str]:
    from adapters.stores.postgres_settings import postgres_env  # it imports StoreURLError

    return postgres_env(url, parts)
