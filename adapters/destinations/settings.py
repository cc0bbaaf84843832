"""Which destinations to deliver to, from a small TOML file and a few environment variables.

The file is `engage.toml` next to the store unless `--config` or `ENGAGE_CONFIG` names another;
it is optional. With no destination configured anywhere, the one default is a JSON Lines file
next to the store (`engage.db` → `engage.events.jsonl`), so the embedded setup needs no
settings at all. Relative paths in the file are relative to the file. `docs/destinations.md`
has every key.

Everything wrong is a `ConfigError` with one line naming the destination and the key; secrets
are read here and never appear in a message.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from adapters.destinations.base import Destination
from adapters.destinations.delivery import Cooldown, RetryPolicy
from adapters.destinations.http import check_url
from adapters.destinations.jsonl import DEFAULT_MAX_BYTES, JsonlDestination
from adapters.destinations.segment import DEFAULT_BASE_URL, MAX_BATCH_EVENTS, SegmentDestination
from adapters.destinations.sql import (
    TABLE,
    PostgresTableDestination,
    SqliteTableDestination,
    postgres_url_problem,
)
from adapters.destinations.webhook import WebhookDestination
from adapters.redaction import remember, remember_url_password
from adapters.views import views_location

CONFIG_ENV = "ENGAGE_CONFIG"
CONFIG_NAME = "engage.toml"
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# environment variable → (destination name, its type, the key it sets)
ENVIRONMENT: dict[str, tuple[str, str, str]] = {
    "ENGAGE_WEBHOOK_URL": ("webhook", "webhook", "url"),
    "ENGAGE_WEBHOOK_SECRET": ("webhook", "webhook", "secret"),
    "ENGAGE_SEGMENT_WRITE_KEY": ("segment", "segment", "write_key"),
    "ENGAGE_SEGMENT_BASE_URL": ("segment", "segment", "base_url"),
    "ENGAGE_SQL_URL": ("sql", "sql", "url"),
}
COMMON_KEYS = {"type", "batch_size", "max_attempts", "timeout", "start"}
TYPE_KEYS = {
    "jsonl": {"path", "max_bytes", "fsync"},
    "webhook": {"url", "url_env", "secret", "secret_env"},
    "segment": {"write_key", "write_key_env", "base_url"},
    "sql": {"url", "url_env", "table"},
}
DELIVERY_KEYS = {
    "max_attempts", "base_delay", "max_delay", "max_retry_after", "timeout", "poll_interval",
    "cooldown", "max_cooldown",
}  # fmt: skip
# The longest duration a setting may ask for, in seconds (a day): longer is surely a mistake,
# and `time.sleep` or a socket timeout overflows on huge values (1e300) rather than wait.
LONGEST = 86_400.0


class ConfigError(ValueError):
    """The settings cannot be used; one line, no secrets."""


@attrs.frozen
class Configured:
    """One destination, ready to deliver, and how."""

    destination: Destination
    policy: RetryPolicy
    start_at_end: bool


@attrs.frozen
class Settings:
    destinations: dict[str, Configured]
    poll_interval: float
    source: str  # where the settings came from, for messages
    cooldown: Cooldown = attrs.field(factory=Cooldown)  # how `--follow` rests a stopped one


def _views_file(store_url: str) -> str | None:
    """The views' SQLite file, or None where they are in memory or in PostgreSQL."""
    location = views_location(store_url)
    return None if location == ":memory:" or "://" in location else location


def store_directory(store_url: str) -> Path:
    """Where a store's neighbours go: the SQLite file's directory, else the working one."""
    location = _views_file(store_url)
    return Path.cwd() if location is None else Path(location).parent


def _store_stem(store_url: str) -> str:
    location = _views_file(store_url)
    name = "" if location is None else Path(location).name
    return name.removesuffix(".views.db") if name.endswith(".views.db") else "engage"


def config_path(store_url: str, given: str | None, environ: Mapping[str, str]) -> Path | None:
    """The settings file to read: `given`, else `ENGAGE_CONFIG`, else `engage.toml` next to
    the store if it exists. A file named explicitly must exist."""
    named = given or environ.get(CONFIG_ENV)
    if named:
        try:
            path = Path(named).expanduser()
            found = path.is_file()
        except (OSError, RuntimeError):  # a name too long for the system, `~nosuchuser`
            found = False
        if not found:
            raise ConfigError(f"settings file {_shown(named)} does not exist")
        return path
    default = store_directory(store_url) / CONFIG_NAME
    return default if default.is_file() else None


def _shown(text: str, longest: int = 200) -> str:
    return text if len(text) <= longest else text[:longest] + "…"


def load_settings(
    store_url: str,
    config: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
) -> Settings:
    """Read the settings file (if any) and the environment into ready destinations."""
    environ = os.environ if environ is None else environ
    path = config_path(store_url, config, environ)
    raw: dict[str, Any] = {}
    base = store_directory(store_url)
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read settings file {path}: {error}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"settings file {path} is not valid TOML: {error}") from None
        base = path.resolve().parent
    source = str(path) if path else "defaults"
    unknown = set(raw) - {"delivery", "destinations"}
    if unknown:
        raise ConfigError(f"{source}: unknown section [{sorted(unknown)[0]}]")
    delivery = _table(raw, "delivery", "[delivery]")
    _only(delivery, DELIVERY_KEYS, "[delivery]")
    tables: dict[str, dict[str, Any]] = {}
    for name in _table(raw, "destinations", "[destinations]"):
        tables[name] = dict(_table(raw["destinations"], name, f"[destinations.{name}]"))
    _apply_environment(tables, environ)
    if not tables:
        tables = {"jsonl": {"type": "jsonl", "path": f"{_store_stem(store_url)}.events.jsonl"}}
        base = store_directory(store_url)
    policy = RetryPolicy(
        max_attempts=_int(delivery, "max_attempts", 5, "[delivery]"),
        base_delay=_number(delivery, "base_delay", 0.5, "[delivery]"),
        max_delay=_number(delivery, "max_delay", 30.0, "[delivery]"),
        max_retry_after=_number(delivery, "max_retry_after", 300.0, "[delivery]"),
    )
    if sleep is not None:
        policy = attrs.evolve(policy, sleep=sleep)
    timeout = _number(delivery, "timeout", 10.0, "[delivery]", positive=True)
    poll_interval = _number(delivery, "poll_interval", 1.0, "[delivery]", positive=True)
    cooldown = Cooldown(
        first=_number(delivery, "cooldown", 30.0, "[delivery]"),
        longest=_number(delivery, "max_cooldown", 900.0, "[delivery]"),
    )
    if cooldown.longest < cooldown.first:
        raise ConfigError("[delivery]: max_cooldown must be at least cooldown")
    destinations = {
        name: _configured(name, table, base, policy, timeout, store_url, environ)
        for name, table in tables.items()
    }
    return Settings(destinations, poll_interval, source, cooldown)


def _apply_environment(tables: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> None:
    for variable, (name, kind, key) in ENVIRONMENT.items():
        value = environ.get(variable)
        if not value:
            continue
        table = tables.setdefault(name, {"type": kind})
        if table.get("type") != kind:
            raise ConfigError(
                f"{variable} sets destination {name!r}, which the settings file declares with "
                f"type {table.get('type')!r}, not {kind!r}"
            )
        table.pop(f"{key}_env", None)
        table[key] = value


def _configured(
    name: str,
    table: dict[str, Any],
    base: Path,
    policy: RetryPolicy,
    timeout: float,
    store_url: str,
    environ: Mapping[str, str],
) -> Configured:
    where = f"[destinations.{name}]"
    if not NAME.match(name):
        raise ConfigError(f"{where}: a destination name is letters, digits, _ and - only")
    kind = table.get("type")
    # isinstance first: `kind in TYPE_KEYS` raises TypeError for a TOML array (unhashable)
    if not isinstance(kind, str) or kind not in TYPE_KEYS:
        raise ConfigError(f"{where}: type must be one of {', '.join(TYPE_KEYS)}, not {kind!r}")
    _only(table, COMMON_KEYS | TYPE_KEYS[kind], where)
    start = table.get("start", "beginning")
    if not isinstance(start, str) or start not in {"beginning", "end"}:
        raise ConfigError(f'{where}: start must be "beginning" or "end", not {start!r}')
    policy = attrs.evolve(policy, max_attempts=_int(table, "max_attempts", policy.max_attempts,
                                                    where))  # fmt: skip
    timeout = _number(table, "timeout", timeout, where, positive=True)
    destination: Destination
    if kind == "jsonl":
        destination = JsonlDestination(
            name,
            base / _path(_text(table, "path", f"{name}.jsonl", where), f"{where}: path"),
            max_bytes=_int(table, "max_bytes", DEFAULT_MAX_BYTES, where),
            batch_size=_int(table, "batch_size", 1000, where),
            fsync=_flag(table, "fsync", True, where),
        )
    elif kind == "webhook":
        url = _secret(table, "url", environ, where, required=True)
        problem = check_url(url)
        if problem:
            raise ConfigError(f"{where}: url {problem}")
        destination = WebhookDestination(
            name, url, secret=_secret(table, "secret", environ, where) or None, timeout=timeout,
            batch_size=_int(table, "batch_size", 100, where),
        )  # fmt: skip
    elif kind == "segment":
        base_url = _text(table, "base_url", DEFAULT_BASE_URL, where)
        problem = check_url(base_url)
        if problem:
            raise ConfigError(f"{where}: base_url {problem}")
        destination = SegmentDestination(
            name, _secret(table, "write_key", environ, where, required=True), base_url=base_url,
            timeout=timeout, batch_size=_int(table, "batch_size", MAX_BATCH_EVENTS, where),
        )  # fmt: skip
    else:
        destination = _sql(name, table, base, store_url, environ, where)
    return Configured(destination, policy, start == "end")


def _sql(
    name: str,
    table: dict[str, Any],
    base: Path,
    store_url: str,
    environ: Mapping[str, str],
    where: str,
) -> Destination:
    url = _secret(table, "url", environ, where, whole=False)
    name_of_table = _text(table, "table", "segment_events", where)
    if not TABLE.match(name_of_table):
        raise ConfigError(f"{where}: table must be a plain SQL name (letters, digits, _)")
    batch_size = _int(table, "batch_size", 1000, where)
    if not url:
        location = _views_file(store_url)
        if location is None:
            raise ConfigError(
                f"{where}: only a SQLite store has a file to share; set url (for a PostgreSQL "
                "store, its own database URL works)"
            )
        return SqliteTableDestination(name, Path(location), table=name_of_table,
                                      batch_size=batch_size)  # fmt: skip
    try:
        parts = urlsplit(url)
    except ValueError:  # never its message: it may quote the URL, password and all
        raise ConfigError(f"{where}: url is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme in {"postgresql", "postgres"}:
        problem = postgres_url_problem(url)
        if problem:
            raise ConfigError(f"{where}: {problem}")
        return PostgresTableDestination(name, url, table=name_of_table, batch_size=batch_size)
    if scheme == "sqlite":
        raw_path = unquote(parts.path)
        path = raw_path[1:] if raw_path.startswith("/") else raw_path
        if not path or parts.netloc:
            raise ConfigError(f"{where}: url: use sqlite:///relative.db or sqlite:////abs.db")
        return SqliteTableDestination(name, base / _path(path, f"{where}: url"),
                                      table=name_of_table, batch_size=batch_size)  # fmt: skip
    raise ConfigError(f"{where}: url must start with sqlite:/// or postgresql://")


def _path(text: str, what: str) -> Path:
    """A path from the settings, `~` expanded; refused here rather than failing every batch
    (a NUL byte makes every file call raise ValueError; `~nosuchuser` cannot expand)."""
    if "\0" in text:
        raise ConfigError(f"{what} must not contain a NUL character")
    try:
        return Path(text).expanduser()
    except RuntimeError:
        raise ConfigError(f"{what}: cannot expand ~ (no such user or no home directory)") from None


def _table(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    return value


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known: {known}")


def _text(table: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value


def _int(table: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: {key} must be a whole number of at least 1")
    return value


def _flag(table: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false")
    return value


def _number(
    table: Mapping[str, Any], key: str, default: float, where: str, *, positive: bool = False
) -> float:
    """A duration in seconds: finite (TOML has `nan` and `inf`), at least 0 (above 0 when
    `positive`: a timeout or poll interval of 0 means none at all), at most a day."""
    value = table.get(key, default)
    low = "above 0" if positive else "from 0"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
        or value > LONGEST
    ):
        raise ConfigError(f"{where}: {key} must be a number of seconds {low} to {LONGEST:g}")
    return float(value)


def _secret(
    table: Mapping[str, Any],
    key: str,
    environ: Mapping[str, str],
    where: str,
    *,
    required: bool = False,
    whole: bool = True,
) -> str:
    """`key` itself, or the environment variable `<key>_env` names; its value never printed
    (with `whole` false only a URL's password is secret: a SQLite URL is a path, not one)."""
    variable = table.get(f"{key}_env")
    if variable is not None:
        if key in table:
            raise ConfigError(f"{where}: give {key} or {key}_env, not both")
        if not isinstance(variable, str) or not variable:
            raise ConfigError(f"{where}: {key}_env must name an environment variable")
        value = environ.get(variable, "")
        if not value:
            raise ConfigError(f"{where}: environment variable {variable} ({key}_env) is not set")
        return _kept_secret(value, whole)
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string")
    if required and not value:
        raise ConfigError(f"{where}: {key} (or {key}_env) is required")
    return _kept_secret(value, whole)


def _kept_secret(value: str, whole: bool) -> str:
    """A secret from the settings: masked in all this process prints from now on (a URL's
    password too, on its own: a library may quote it decoded)."""
    if whole:
        remember(value)
    remember_url_password(value)
    return value
