"""The outbox: every Segment-spec track event the log publishes, in log order, each with its
outbox position (what destinations keep their cursors on) and its deterministic messageId.

The send record each message has so far is kept in a side table, in the same transaction, so
the mapping sees what a message's events should carry (campaign, user) without holding the
log in memory: a rebuild runs in bounded memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, ClassVar

import attrs
import orjson
from eventsourcing.sqlite import SQLiteCursor

from adapters.views.base import SQLiteView
from engage_core.consent.events import ChannelUpdateRecorded, GroupUpdateRecorded
from engage_core.message.events import MessageEvent, SendRecorded
from engage_core.observations import Send
from engage_core.segment import EventSettings, TrackEvent, consent_events, message_events
from engage_core.serialisation import converter


@attrs.frozen
class OutboxEntry:
    """One published event: its outbox position and its Segment JSON."""

    position: int
    message_id: str
    event: str
    body: dict[str, Any]


class OutboxView(SQLiteView):
    name = "outbox"
    schema: ClassVar[dict[str, str]] = {
        "outbox": (
            "CREATE TABLE IF NOT EXISTS outbox ("
            "position INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, "
            "event TEXT NOT NULL, source_position INTEGER NOT NULL, body BLOB NOT NULL)"
        ),
        "outbox_sends": (
            "CREATE TABLE IF NOT EXISTS outbox_sends ("
            "message TEXT PRIMARY KEY, send BLOB NOT NULL) WITHOUT ROWID"
        ),
    }
    order_by: ClassVar[dict[str, str]] = {"outbox": "position", "outbox_sends": "message"}
    settings: ClassVar[EventSettings] = EventSettings()
    # send records of recent messages, so most events need no lookup (a message's events come
    # close together in the log); filled only from committed pages
    cache_size: ClassVar[int] = 20_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._rows: list[tuple[str, str, int, bytes]] = []
        self._sends: OrderedDict[str, Send | None] = OrderedDict()
        self._pending: dict[str, Send | None] = {}
        super().__init__(*args, **kwargs)

    def drop(self) -> None:
        self._sends.clear()
        super().drop()

    def _flush(self, cursor: SQLiteCursor) -> None:
        cursor.executemany(
            "INSERT OR IGNORE INTO outbox (message_id, event, source_position, body) "
            "VALUES (?, ?, ?, ?)",
            self._rows,
        )
        self._rows.clear()

    def _committed(self) -> None:
        for message, send in self._pending.items():
            self._sends[message] = send
            self._sends.move_to_end(message)
        self._pending.clear()
        while len(self._sends) > self.cache_size:
            self._sends.popitem(last=False)

    def process(self, events: Any) -> None:
        try:
            super().process(events)
        finally:  # a failed page leaves nothing half-remembered
            self._rows.clear()
            self._pending.clear()

    def _apply(self, cursor: SQLiteCursor, position: int, event: Any) -> None:
        published: list[TrackEvent] = []
        if isinstance(event, MessageEvent):
            send = self._send(cursor, event)
            if isinstance(event, SendRecorded):
                send = self._merge_send(cursor, event, send)
            published = message_events(event, send, self.settings)
        elif isinstance(event, ChannelUpdateRecorded | GroupUpdateRecorded):
            published = consent_events(event, self.settings)
        for track in published:
            body = orjson.dumps(track.as_segment())
            self._rows.append((track.message_id, track.event, position, body))

    def _send(self, cursor: SQLiteCursor, event: MessageEvent) -> Send | None:
        message = event.originator_id.hex
        if message in self._pending:
            return self._pending[message]
        if message in self._sends:
            return self._sends[message]
        cursor.execute("SELECT send FROM outbox_sends WHERE message = ?", (message,))
        row = cursor.fetchone()
        send = None if row is None else converter.structure(orjson.loads(row[0]), Send)
        self._pending[message] = send
        return send

    def _merge_send(self, cursor: SQLiteCursor, event: SendRecorded, known: Send | None) -> Send:
        """The message's send record after this one: the first value of each field stands,
        as in the message aggregate."""
        merged = event.send
        if known is not None:
            fields = {a.name: getattr(known, a.name) for a in attrs.fields(Send)}
            for a in attrs.fields(Send):
                if fields[a.name] is None:
                    fields[a.name] = getattr(event.send, a.name)
            merged = Send(**fields)
        cursor.execute(
            "INSERT INTO outbox_sends VALUES (?, ?) ON CONFLICT (message) DO UPDATE "
            "SET send = excluded.send",
            (event.originator_id.hex, orjson.dumps(converter.unstructure(merged))),
        )
        self._pending[event.originator_id.hex] = merged
        return merged

    def read(self, after: int = 0, limit: int = 1000) -> list[OutboxEntry]:
        """Published events after an outbox position, in order."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT position, message_id, event, body FROM outbox WHERE position > ? "
                "ORDER BY position LIMIT ?",
                (after, limit),
            )
            return [OutboxEntry(r[0], r[1], r[2], orjson.loads(r[3])) for r in cursor.fetchall()]

    def entries(self, after: int = 0, page: int = 1000) -> Iterator[OutboxEntry]:
        """Every published event after `after`, read a page at a time."""
        while True:
            found = self.read(after, page)
            yield from found
            if len(found) < page:
                return
            after = found[-1].position

    def last_position(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT MAX(position) FROM outbox")
            return int(cursor.fetchone()[0] or 0)
