"""What a `postgresql://` store URL means as eventsourcing's PostgreSQL settings.

`postgresql://user:password@host:port/dbname?schema=engage&pool_size=10`: the query names
eventsourcing's settings in lower case without their `POSTGRES_` prefix (`pool_size` is
`POSTGRES_POOL_SIZE`). Each value is checked here, so a mistake is one line naming the
parameter rather than eventsourcing's error at the first connection; a parameter we do not know
is refused, never ignored (a misspelt `pool_sise` would otherwise leave the default in force
without a word).

The URL is the whole configuration: every setting is written, defaults included, under both
its plain name and the `ENGAGE_`-prefixed one, because eventsourcing looks up `<APP>_<KEY>`
before `<KEY>` and Engage's application is called Engage: without this, a stray
`ENGAGE_POSTGRES_SCHEMA` in the environment would quietly beat the URL. The one setting also
read from the environment is the password (`ENGAGE_POSTGRES_PASSWORD`), for deployments that
keep it out of the URL; the URL's own wins when both are given.

No password, and no query value, is ever part of a message; the password is remembered as a
secret (`adapters.redaction`) the moment the URL is read.

Nothing here imports eventsourcing or psycopg: the CLI checks a store URL before any verb runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from urllib.parse import SplitResult, parse_qsl, unquote

from adapters.redaction import redact_url, remember, remember_url_password
from adapters.stores.urls import StoreURLError

__all__ = [
    "APPLICATION_RECORDER_TOPIC",
    "PARAMETERS",
    "PASSWORD_VARIABLE",
    "TRACKING_RECORDER_TOPIC",
    "postgres_env",
]

PASSWORD_VARIABLE = "ENGAGE_POSTGRES_PASSWORD"
# Written as text, not get_topic(): resolving it imports psycopg, which only the postgres extra
# installs (tests check they name the classes in adapters/stores/postgres.py).
APPLICATION_RECORDER_TOPIC = "adapters.stores.postgres:EngagePostgresApplicationRecorder"
TRACKING_RECORDER_TOPIC = "adapters.stores.postgres:EngagePostgresTrackingRecorder"
# eventsourcing reads `<application name>_<KEY>` first; Engage's application is "Engage"
_APPLICATION_PREFIX = "ENGAGE_"
_TRUE = {"y", "yes", "t", "true", "on", "1"}
_FALSE = {"n", "no", "f", "false", "off", "0"}
# lower case, as PostgreSQL folds unquoted names: eventsourcing looks its composite types up by
# `schema.name` unquoted, so a name needing quotes would break that look-up
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _integer(least: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value.isdigit() or int(value) < least:
            return f"a whole number, at least {least}"
        return None

    return check


def _seconds(value: str) -> str | None:
    try:
        ok = float(value) > 0
    except ValueError:
        ok = False
    return None if ok else "a number of seconds above 0"


def _boolean(value: str) -> str | None:
    return None if value.lower() in _TRUE | _FALSE else "yes or no"


def _schema(value: str) -> str | None:
    if _SCHEMA.fullmatch(value):
        return None
    return "a lower-case name of letters, digits and _ (at most 63, not starting with a digit)"


# query parameter: (eventsourcing setting, default, check of a given value)
PARAMETERS: dict[str, tuple[str, str, Callable[[str], str | None]]] = {
    "schema": ("POSTGRES_SCHEMA", "public", _schema),
    "pool_size": ("POSTGRES_POOL_SIZE", "5", _integer(1)),
    "max_overflow": ("POSTGRES_MAX_OVERFLOW", "10", _integer(0)),
    "max_waiting": ("POSTGRES_MAX_WAITING", "0", _integer(0)),
    "connect_timeout": ("POSTGRES_CONNECT_TIMEOUT", "30", _integer(1)),
    "idle_in_transaction_session_timeout": (
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT",
        "5",
        _integer(0),
    ),
    "lock_timeout": ("POSTGRES_LOCK_TIMEOUT", "0", _integer(0)),
    "conn_max_age": ("POSTGRES_CONN_MAX_AGE", "3600", _seconds),
    "pre_ping": ("POSTGRES_PRE_PING", "no", _boolean),
    # one stored-procedure call per save: measured twice the single-save throughput
    "enable_db_functions": ("POSTGRES_ENABLE_DB_FUNCTIONS", "yes", _boolean),
}
# what people put in a libpq URL's query that has a place of its own here
_ELSEWHERE = {
    "password": f"the password goes in user:password@ or {PASSWORD_VARIABLE}",
    "user": "the user goes in user:password@",
    "host": "the host goes in @host:port",
    "port": "the port goes in @host:port",
    "dbname": "the database goes in the path, /dbname",
    "sslmode": "libpq's TLS settings come from its environment (PGSSLMODE, PGSSLROOTCERT, …)",
}


def _shown(url: str) -> str:
    """The URL as an error quotes it: no password, and no query (whose values may be one)."""
    return redact_url(url).split("?", 1)[0]  # masked first: a password may hold a `?`


def _query(url: str, parts: SplitResult) -> dict[str, str]:
    """The query's parameters, each checked; the first problem raised as one line."""
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for name, value in pairs:
        if name.lower() in {"password", "passwd"}:
            remember(value)  # a secret all the same: never printed from now on
    names = [name for name, _ in pairs]
    unknown = sorted({name for name in names if name not in PARAMETERS})
    if unknown:
        hints = "; ".join(_ELSEWHERE[n] for n in unknown if n in _ELSEWHERE)
        raise StoreURLError(
            f"{_shown(url)!r}: unknown parameter(s) {', '.join(unknown)}"
            + (f" ({hints})" if hints else "")
            + f"; known: {', '.join(PARAMETERS)}"
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise StoreURLError(f"{_shown(url)!r}: parameter(s) given twice: {', '.join(twice)}")
    for name, value in pairs:
        problem = PARAMETERS[name][2](value)
        if problem:
            raise StoreURLError(f"{_shown(url)!r}: {name} must be {problem}")
    return dict(pairs)


def postgres_env(
    url: str, parts: SplitResult, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The eventsourcing environment for a `postgresql://` URL (see the module's docstring)."""
    environ = os.environ if environ is None else environ
    remember_url_password(url)  # never printed from now on, as given and percent-decoded
    if not parts.hostname or not parts.path.strip("/"):
        raise StoreURLError(
            f"{_shown(url)!r}: expected postgresql://user:password@host:port/dbname"
        )
    given = _query(url, parts)
    # the URL's, else ours, else libpq's own variable: eventsourcing always hands psycopg a
    # password, and libpq reads PGPASSWORD only when none is given, so it is passed on here
    # (`~/.pgpass` still applies when all three are empty)
    password = (unquote(parts.password or "") or environ.get(PASSWORD_VARIABLE, "")
                or environ.get("PGPASSWORD", ""))  # fmt: skip
    remember(password)
    settings = {
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": password,  # empty: libpq's ~/.pgpass
        "POSTGRES_GET_PASSWORD_TOPIC": "",
    }
    for name, (key, default, _) in PARAMETERS.items():
        settings[key] = given.get(name, default)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": APPLICATION_RECORDER_TOPIC,
        "TRACKING_RECORDER_TOPIC": TRACKING_RECORDER_TOPIC,
        **settings,
        **{_APPLICATION_PREFIX + key: value for key, value in settings.items()},
    }
