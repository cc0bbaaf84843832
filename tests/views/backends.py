"""The two view databases every view, outbox and ledger test runs on: SQLite (in memory, or a
file where several `Views` must share it) and PostgreSQL (a views schema of its own per
location, on the session's private server), so one suite holds both backends to the same
behaviour. A test asks its backend for fresh locations; the backend closes what it opened and
drops the PostgreSQL schemas when the test ends.

Hypothesis properties open a fresh location per example. A PostgreSQL example costs a few
tenths of a second (the tables are made, the pool connects), so properties run fewer examples
there (`examples`); SQLite keeps the profile's count.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import psycopg
from hypothesis import settings
from psycopg import sql

from adapters.views import Views
from adapters.views.database import ViewDatabase, open_view_database

Backend = Literal["sqlite", "postgresql"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgresql")
# a property's examples on PostgreSQL: the profile's count over 30, at least this many (an
# example of a whole workload, paged as small as one event, is a second or so there)
POSTGRES_EXAMPLES = 5


class ViewBackend:
    """Fresh view databases of one backend for one test (see the module's docstring)."""

    def __init__(self, name: Backend, database_url: str | None = None) -> None:
        """`database_url`: the PostgreSQL database the schemas go in (PostgreSQL only)."""
        self.name = name
        self.database_url = database_url
        self._opened: list[Views | ViewDatabase] = []
        self._schemas: list[str] = []
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def __repr__(self) -> str:
        return f"ViewBackend({self.name})"

    def location(self, *, shared: bool = False) -> str:
        """Where a new, empty set of views can live: for SQLite `:memory:` (a file when
        `shared`: several `Views` opening it see one database), for PostgreSQL a store URL
        whose views schema nobody has used."""
        if self.name == "sqlite":
            if not shared:
                return ":memory:"
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix="engage-views-")
            return str(Path(self._folder.name) / f"{uuid.uuid4().hex[:12]}.views.db")
        assert self.database_url is not None
        schema = f"t{uuid.uuid4().hex[:16]}"
        self._schemas += [schema, f"{schema}_views"]
        return f"{self.database_url}?schema={schema}"

    def views(self, location: str | None = None, **kwargs: Any) -> Views:
        """`Views` at `location` (default: a fresh one), closed with the backend."""
        opened = Views(location if location is not None else self.location(), **kwargs)
        self._opened.append(opened)
        return opened

    def database(self, location: str | None = None) -> ViewDatabase:
        """A view database at `location` (default: a fresh one), closed with the backend."""
        opened = open_view_database(location if location is not None else self.location())
        self._opened.append(opened)
        return opened

    @contextmanager
    def fresh(self) -> Iterator[ViewBackend]:
        """A backend of the same kind for one block (one Hypothesis example): what it opened
        is closed and its schemas dropped when the block ends, so examples do not pile up
        connections."""
        inner = ViewBackend(self.name, self.database_url)
        try:
            yield inner
        finally:
            inner.close()

    @contextmanager
    def fresh_views(self, **kwargs: Any) -> Iterator[Views]:
        """`Views` at a fresh location for one block (see `fresh`)."""
        with self.fresh() as inner:
            yield inner.views(**kwargs)

    @contextmanager
    def fresh_database(self) -> Iterator[ViewDatabase]:
        """A view database at a fresh location for one block (see `fresh`)."""
        with self.fresh() as inner:
            yield inner.database()

    def close(self) -> None:
        """Close what was opened; drop the PostgreSQL schemas made (the server outlives us)."""
        for opened in reversed(self._opened):
            opened.close()
        self._opened.clear()
        if self._schemas and self.database_url is not None:
            with psycopg.connect(self.database_url, autocommit=True) as connection:
                for schema in self._schemas:
                    connection.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                    )
            self._schemas.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def examples(backend: ViewBackend, base: settings, *, postgresql: int | None = None) -> settings:
    """`base` on SQLite; on PostgreSQL the same with fewer examples (`postgresql`, default
    `POSTGRES_EXAMPLES` or the profile's count over 30, whichever is more), so the second
    backend adds seconds, not minutes."""
    if backend.name == "sqlite":
        return base
    wanted = postgresql if postgresql is not None else POSTGRES_EXAMPLES
    count = max(wanted, settings().max_examples // 30)
    return settings(base, max_examples=min(base.max_examples, count))
