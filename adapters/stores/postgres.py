"""eventsourcing's PostgreSQL recorders, made safe to start many at once and to share a schema.

Creating tables is not safe to race in PostgreSQL: two sessions running `CREATE TABLE IF NOT
EXISTS` (or `CREATE TYPE`) for the same name at once both pass the existence check, and the
loser fails on `pg_type_typname_nsp_index`; two `CREATE OR REPLACE FUNCTION`s for one name fail
with `tuple concurrently updated`. eventsourcing creates its tables, composite type and insert
function whenever a recorder is made, so several Engage processes first starting on an empty
database (a deployment rolling out N workers) failed, and their inputs with them. Here each
recorder's `create_table` runs under a session-level advisory lock taken on a connection of
its own (not the pool's, which may be a single connection the creation itself needs): one
process creates, the others wait and then find everything there. The lock is one per schema,
not per table, because the composite type eventsourcing shares between all its tables in a
schema is created by every application recorder. A schema named in the URL is created under
the same lock when it does not exist yet.

eventsourcing names its insert function after the originator id type only
(`es_insert_events_uuid`), so two applications in one schema with database functions on would
replace each other's function, and one would write its events into the other's table. Here the
function is named after the application's table, as the tables already are.

eventsourcing's insert function also takes no table lock, where its statement-by-statement
insert does (`LOCK TABLE … IN EXCLUSIVE MODE`, which plain reads do not wait for): without it,
two processes saving at once can commit in the other order than the one their positions
(notification ids) were taken in. A view that has read up to the log's last position then
never applies the earlier position committed after it. Here the function locks the table, so
positions follow commits, as eventsourcing intends.

The application recorder also reads the events of many aggregates in one query
(`select_events_of_many`, the core's `ReadsManyAggregates`): eventsourcing reads one aggregate
per query, a round trip each, which was most of a batch's ingest time (a batch of 1,000
reports touches some 370 messages). And a save hands its events to the insert function in
binary (`%b`): psycopg's text form of an array of composites escapes every field with regular
expressions in Python, which took longer than the server's whole insert.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.utils import retry
from psycopg.sql import SQL, Composed, Identifier

__all__ = [
    "LOCK_WAIT_SECONDS",
    "EngagePostgresApplicationRecorder",
    "EngagePostgresTrackingRecorder",
    "advisory_key",
    "creation_lock",
    "creation_lock_key",
    "dedicated_connection",
    "insert_function_name",
]

# where eventsourcing's insert function body notifies listeners: the table lock goes before
_NOTIFY = "    NOTIFY "

# TCP keepalives of dedicated connections (both ends): a vanished peer is found dead in
# idle + interval * count = 25 seconds
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3

# How long a starting process waits for another to finish creating the tables before it gives
# up with a clear error (creation takes well under a second; this only bounds a stuck holder).
LOCK_WAIT_SECONDS = 120


def advisory_key(text: str) -> int:
    """A PostgreSQL advisory lock key for `text`: a signed 64-bit integer from its SHA-256, the
    same in every process, so every lock of Engage's is named by a sentence of its own."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def creation_lock_key(schema: str) -> int:
    """The advisory lock key guarding table creation in `schema`."""
    return advisory_key(f"engage: create tables in schema {schema}")


@contextmanager
def _persistence_errors() -> Iterator[None]:
    """psycopg's errors as eventsourcing's, which callers already report as a store problem
    (the CLI: `cannot open store …`, exit 1) rather than as an internal error."""
    try:
        yield
    except psycopg.OperationalError as error:
        raise OperationalError(str(error)) from error
    except psycopg.ProgrammingError as error:
        raise ProgrammingError(str(error)) from error
    except psycopg.Error as error:
        raise PersistenceError(str(error)) from error


def dedicated_connection(datastore: PostgresDatastore, purpose: str) -> psycopg.Connection[Any]:
    """A connection of its own, apart from the datastore's pool (which may be one connection,
    busy with the work itself), with the datastore's settings: autocommit, named after its
    `purpose` in `pg_stat_activity`, and with TCP keepalives on both ends, so a connection
    whose peer vanished is found dead in seconds."""
    pool: Any = datastore.pool
    kwargs = dict(pool.kwargs or {})
    if pool.get_password_func is not None:
        kwargs["password"] = pool.get_password_func()
    kwargs.pop("row_factory", None)
    connection = psycopg.connect(
        pool.conninfo, autocommit=True, connect_timeout=max(1, int(pool.timeout)),
        application_name=f"engage {purpose}", keepalives=1, keepalives_idle=KEEPALIVE_IDLE,
        keepalives_interval=KEEPALIVE_INTERVAL, keepalives_count=KEEPALIVE_COUNT, **kwargs,
    )  # fmt: skip
    try:  # the server's end of the same probes (a session setting any user may change)
        connection.execute(f"SET tcp_keepalives_idle = {KEEPALIVE_IDLE}")
        connection.execute(f"SET tcp_keepalives_interval = {KEEPALIVE_INTERVAL}")
        connection.execute(f"SET tcp_keepalives_count = {KEEPALIVE_COUNT}")
    except BaseException:
        connection.close()
        raise
    return connection


def _create_schema(connection: psycopg.Connection[Any], schema: str) -> None:
    """Create the schema when it is missing (looked up first: `CREATE SCHEMA IF NOT EXISTS`
    needs the CREATE privilege even when the schema is there, which a user given a schema
    made by its administrator may lack)."""
    found = connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if found.fetchone() is None:
        connection.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))


@contextmanager
def creation_lock(datastore: PostgresDatastore) -> Iterator[None]:
    """Hold the schema's creation lock (and make sure the schema exists) for the block."""
    schema = datastore.schema
    with _persistence_errors():
        connection = dedicated_connection(datastore, "table creation")
    with connection:
        with _persistence_errors():
            connection.execute(SQL("SET lock_timeout = '{}s'").format(LOCK_WAIT_SECONDS))
            try:
                connection.execute("SELECT pg_advisory_lock(%s)", (creation_lock_key(schema),))
            except psycopg.errors.LockNotAvailable as error:
                raise OperationalError(
                    f"waited {LOCK_WAIT_SECONDS} s for another process to finish creating "
                    f"Engage's tables in schema {schema}"
                ) from error
            _create_schema(connection, schema)
        try:
            yield
        finally:
            # closing the connection releases it too (and does if this fails): said, so a
            # server connection pooled in session mode (pgbouncer) never keeps it
            with suppress(psycopg.Error):
                connection.execute("SELECT pg_advisory_unlock(%s)", (creation_lock_key(schema),))


def insert_function_name(events_table_name: str) -> str:
    """The insert function of one application's table: its own, within PostgreSQL's 63-byte
    identifiers (a long table name is shortened with a digest, so names stay distinct)."""
    name = f"es_insert_{events_table_name}"
    if len(name.encode()) <= PostgresRecorder.MAX_IDENTIFIER_LEN:
        return name
    return f"es_insert_{hashlib.sha256(events_table_name.encode()).hexdigest()[:40]}"


class EngagePostgresApplicationRecorder(PostgresApplicationRecorder):
    """eventsourcing's application recorder, its tables created under the creation lock and
    its insert function named after its table and locking it (see the module's docstring)."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        stock = self.pg_function_name_insert_events
        self.pg_function_name_insert_events = insert_function_name(self.events_table_name)
        schema, function = (
            Identifier(datastore.schema),
            Identifier(self.pg_function_name_insert_events),
        )
        self.sql_invoke_pg_function_insert_events = SQL(
            "SELECT * FROM {schema}.{function}((%b))"
        ).format(schema=schema, function=function)
        # eventsourcing's own CREATE FUNCTION statement, with the name changed and the table
        # locked (the lock timeout and NOTIFY channel are already this table's)
        statement = self.sql_create_pg_function_insert_events.as_string()
        assert f'"{stock}"' in statement, "eventsourcing's insert function changed shape"
        assert _NOTIFY in statement, "eventsourcing's insert function changed shape"
        lock = SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE;").format(
            schema, Identifier(self.events_table_name)
        )
        statement = statement.replace(f'"{stock}"', f'"{self.pg_function_name_insert_events}"', 1)
        statement = statement.replace(_NOTIFY, f"    {lock.as_string()}{_NOTIFY}", 1)
        changed = Composed([SQL(statement)])
        self.sql_create_pg_function_insert_events = changed
        self.sql_create_statements[self.create_insert_function_statement_index] = changed
        self.select_events_of_many_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::{id_type}[], %s::bigint[]) AS wanted(id, since) "
            "JOIN {schema}.{table} AS e "
            "ON e.originator_id = wanted.id AND e.originator_version > wanted.since "
            "ORDER BY e.originator_id, e.originator_version"
        ).format(
            id_type=Identifier(datastore.originator_id_type),
            schema=schema,
            table=Identifier(self.events_table_name),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of_many(self, since: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of each given aggregate after the version given for it (0: all),
        in version order, in one query; aggregates with none are absent. Retried on a lost
        connection as eventsourcing retries its own reads."""
        as_text = self.datastore.originator_id_type == "text"
        ids = [str(key) if as_text else key for key in since]
        found: dict[UUID, list[StoredEvent]] = defaultdict(list)
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self.select_events_of_many_statement, (ids, list(since.values())))
            for row in cursor.fetchall():
                key = row["originator_id"]
                originator_id = key if isinstance(key, UUID) else UUID(str(key))
                found[originator_id].append(
                    StoredEvent(originator_id=originator_id,
                                originator_version=row["originator_version"],
                                topic=row["topic"], state=bytes(row["state"]))
                )  # fmt: skip
        return dict(found)

    def create_table(self) -> None:
        """eventsourcing's, one process at a time."""
        with creation_lock(self.datastore):
            super().create_table()


class EngagePostgresTrackingRecorder(PostgresTrackingRecorder):
    """eventsourcing's tracking recorder (views and workers keeping their position in
    PostgreSQL), its table created under the creation lock."""

    def create_table(self) -> None:
        """eventsourcing's (its migration check included), one process at a time."""
        with creation_lock(self.datastore):
            super().create_table()
