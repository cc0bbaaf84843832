"""The outbox: every Segment-spec track event the log publishes, in log order, each with its
outbox position (what destinations keep their cursors on) and its deterministic messageId.

What gets published is decided by the core's publisher (`engage_core.segment.publisher`), one
message event at a time from a small memory per message; the outbox keeps that memory in a side
table, in the same transaction as its rows, so it never holds the log in memory (a rebuild runs
in bounded memory), and writes the rows. It decides nothing itself: a report, most of a log, is
read from its stored JSON by `adapters.views.publishing`, which publishes byte for byte what the
publisher does for the typed report; everything else goes through the publisher itself.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import attrs
import orjson

from adapters.views.base import View, ViewRebuilt
from adapters.views.database import ViewCursor, select_in
from adapters.views.message_facts import OBSERVED, SEND_RECORDED
from adapters.views.publishing import Typed, fast_settings, observed_rows
from adapters.views.records import Record
from engage_core.consent.events import (
    ChannelUpdateRecorded,
    GroupStateRejudged,
    GroupUpdateRecorded,
)
from engage_core.observations import Send
from engage_core.segment import EventSettings, TrackEvent, publisher
from engage_core.segment.mapping import message_events
from engage_core.segment.publisher import NOTHING_PUBLISHED, Published, publish, publish_fact
from engage_core.serialisation import converter

# the events that publish anything: a message's report or send record, or a consent fact
_MESSAGE_TOPICS = frozenset({OBSERVED, SEND_RECORDED})
_FACT_TOPICS = frozenset(
    cls.TOPIC for cls in (ChannelUpdateRecorded, GroupUpdateRecorded, GroupStateRejudged)
)


def _mapping() -> Any:
    """The mapping the core's publisher decides with now (its own, unless replaced)."""
    return getattr(publisher, "message_events", None)


@attrs.frozen
class OutboxEntry:
    """One published event: its outbox position and its Segment JSON."""

    position: int
    message_id: str
    event: str
    body: dict[str, Any]
    # the log position of the fact it publishes (0 where not known, as in a dead letter)
    source: int = attrs.field(default=0, eq=False)


@attrs.frozen
class Located:
    """The outbox's build, and the event at a position in it (if any)."""

    generation: str
    message_id: str | None
    source: int | None


def _send_blob(known: Published) -> bytes | None:
    return None if known.send is None else orjson.dumps(converter.unstructure(known.send))


def _track_row(track: TrackEvent) -> tuple[str, str, bytes]:
    return track.message_id, track.event, orjson.dumps(track.as_segment())


class OutboxView(View):
    name = "outbox"
    reads_records = True  # reads each stored event's JSON (`Record`) field by field
    schema: ClassVar[dict[str, str]] = {
        "outbox": (
            "CREATE TABLE IF NOT EXISTS outbox ("
            "position INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, "
            "event TEXT NOT NULL, source_position INTEGER NOT NULL, body BLOB NOT NULL)"
        ),
        # per message: its send record so far (or null) and whether its Processed went out
        "outbox_messages": (
            "CREATE TABLE IF NOT EXISTS outbox_messages ("
            "message TEXT PRIMARY KEY, send BLOB, processed INTEGER NOT NULL) WITHOUT ROWID"
        ),
    }
    order_by: ClassVar[dict[str, str]] = {"outbox": "position", "outbox_messages": "message"}
    settings: ClassVar[EventSettings] = EventSettings()
    # what recent messages have (send record, Processed published), so most events need no
    # lookup (a message's events come close together in the log); filled only from committed
    # pages
    cache_size: ClassVar[int] = 20_000

    def __init__(self, *args: Any, settings: EventSettings | None = None, **kwargs: Any) -> None:
        if settings is not None:
            self.settings = settings  # type: ignore[misc]  # per outbox, over the class default
        self._rows: list[tuple[str, str, int, bytes]] = []
        self._sends: OrderedDict[str, Published] = OrderedDict()
        self._pending: dict[str, Published] = {}  # what this page read or changed
        self._changed: dict[str, Published] = {}  # to be written at the end of the page
        self._fast = True  # reports read from their JSON (`_prepare` decides, each page)
        super().__init__(*args, **kwargs)

    def drop(self) -> None:
        self._sends.clear()
        super().drop()

    def _forget(self) -> None:
        self._sends.clear()

    def _flush(self, cursor: ViewCursor) -> None:
        cursor.executemany(
            "INSERT INTO outbox_messages (message, send, processed) VALUES (?, ?, ?) "
            "ON CONFLICT (message) DO UPDATE "
            "SET send = excluded.send, processed = excluded.processed",
            [(message, _send_blob(known), int(known.processed))
             for message, known in self._changed.items()],
        )  # fmt: skip
        self._changed.clear()
        self._insert_rows(cursor)

    def _insert_rows(self, cursor: ViewCursor) -> None:
        """Number the page's rows after the last outbox position (the page holds the
        outbox's write lock), leaving out a messageId the outbox already has, so positions
        run without gaps on every backend."""
        rows: list[tuple[str, str, int, bytes]] = []
        seen: set[str] = set()
        for row in self._rows:
            if row[0] not in seen:
                seen.add(row[0])
                rows.append(row)
        self._rows.clear()
        query = "SELECT message_id FROM outbox WHERE message_id IN ({})"
        known = {str(found[0]) for found in select_in(cursor, query, [r[0] for r in rows])}
        cursor.execute("SELECT MAX(position) FROM outbox")
        last = int(cursor.fetchone()[0] or 0)
        numbered = [
            (last + number, *row)
            for number, row in enumerate((r for r in rows if r[0] not in known), start=1)
        ]
        cursor.executemany(
            "INSERT INTO outbox (position, message_id, event, source_position, body) "
            "VALUES (?, ?, ?, ?, ?)",
            numbered,
        )

    def _committed(self) -> None:
        for message, known in self._pending.items():
            self._sends[message] = known
            self._sends.move_to_end(message)
        self._pending.clear()
        while len(self._sends) > self.cache_size:
            self._sends.popitem(last=False)

    def _clear(self) -> None:
        self._rows.clear()
        self._pending.clear()
        self._changed.clear()

    def _apply(self, cursor: ViewCursor, position: int, record: Record) -> None:
        topic = record.topic
        if topic in _MESSAGE_TOPICS:
            message = record.hex
            held = self._pending.get(message)  # `_prepare` read every message of the page
            known = held if held is not None else self._sends[message]
            try:
                if topic != OBSERVED or not self._fast:
                    raise Typed("a send record, or a mapping of another's")
                now, rows = observed_rows(known, record, self.settings)
            except Typed:
                now, published = publish(known, record.event(), self.settings)
                rows = [_track_row(track) for track in published]
            if now != known:
                self._pending[message] = self._changed[message] = now
        elif topic in _FACT_TOPICS:
            rows = [_track_row(track) for track in publish_fact(record.event(), self.settings)]
        else:
            return  # duplicates, listings, quarantine: nothing to publish
        for message_id, event, body in rows:
            self._rows.append((message_id, event, position, body))

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Record]]) -> None:
        """What the outbox knows of the page's messages that its memory does not hold, read
        in one query (a message it never saw: nothing published yet)."""
        # the fast path reads reports as `mapping.message_events` does with stock settings:
        # another mapping or settings class (an embedder's, a test's) is followed typed
        self._fast = _mapping() is message_events and fast_settings(self.settings)
        wanted = [
            message
            for message in dict.fromkeys(r.hex for _, r in events if r.topic in _MESSAGE_TOPICS)
            if message not in self._pending and message not in self._sends
        ]
        query = "SELECT message, send, processed FROM outbox_messages WHERE message IN ({})"
        for row in select_in(cursor, query, wanted):
            send = None if row[1] is None else converter.structure(orjson.loads(row[1]), Send)
            self._pending[str(row[0])] = Published(send, bool(row[2]))
        for message in wanted:
            self._pending.setdefault(message, NOTHING_PUBLISHED)

    def read(
        self, after: int = 0, limit: int = 1000, *, generation: str | None = None
    ) -> list[OutboxEntry]:
        """Published events after an outbox position, in order; `ViewRebuilt` when the outbox
        is no longer the build `generation` names (its positions were renumbered)."""
        with self.datastore.transaction(commit=True) as cursor:
            self._check_build(cursor, generation)
            cursor.execute(
                "SELECT position, message_id, event, body, source_position FROM outbox "
                "WHERE position > ? ORDER BY position LIMIT ?",
                (after, limit),
            )
            rows = cursor.fetchall()
            # and after: a PostgreSQL statement reads what is committed when it starts, so a
            # rebuild that committed while this one waited for the table gave its rows
            self._check_build(cursor, generation)
            return [OutboxEntry(r[0], r[1], r[2], orjson.loads(r[3]), r[4]) for r in rows]

    def _check_build(self, cursor: ViewCursor, generation: str | None) -> None:
        if generation is not None and self._generation(cursor)[0] != generation:
            raise ViewRebuilt("the outbox was rebuilt: its positions were renumbered")

    def entries(
        self, after: int = 0, page: int = 1000, *, generation: str | None = None
    ) -> Iterator[OutboxEntry]:
        """Every published event after `after`, read a page at a time (all from one build of
        the outbox when `generation` is given)."""
        while True:
            found = self.read(after, page, generation=generation)
            yield from found
            if len(found) < page:
                return
            after = found[-1].position

    def locate(self, cursor: ViewCursor, position: int) -> Located:
        """Inside a transaction of the views datastore (a destination's ledger shares it): the
        outbox's build now and the event at `position` (its messageId and the log position it
        publishes; None at 0 or where there is none)."""
        generation, _ = self._generation(cursor)
        cursor.execute(
            "SELECT message_id, source_position FROM outbox WHERE position = ?", (position,)
        )
        row = cursor.fetchone()
        if row is None:
            return Located(generation, None, None)
        return Located(generation, str(row[0]), int(row[1]))

    def before_source(self, source: int) -> int:
        """The outbox position just before the first event published for a log position at
        or after `source` (where a reader that had every event up to `source`, but not all
        of those for `source` itself, resumes)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT MAX(position) FROM outbox WHERE source_position < ?", (source,))
            return int(cursor.fetchone()[0] or 0)

    def message_id_at(self, position: int) -> str | None:
        """The messageId of the event at an outbox position."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT message_id FROM outbox WHERE position = ?", (position,))
            row = cursor.fetchone()
            return None if row is None else str(row[0])

    def position_of(self, message_id: str, *, generation: str | None = None) -> int | None:
        """Where an event (by its messageId) is in the outbox now; with `generation`,
        `ViewRebuilt` unless the outbox is still that build after the read (a rebuild's drop
        committing meanwhile would otherwise make any event look unpublished)."""
        # each statement reads what is committed when it starts (not one snapshot: a
        # PostgreSQL snapshot taken before a drop sees the new tables empty)
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute("SELECT position FROM outbox WHERE message_id = ?", (message_id,))
            row = cursor.fetchone()
            if generation is not None and self._generation(cursor)[0] != generation:
                raise ViewRebuilt("the outbox was rebuilt while looking for an event")
            return None if row is None else int(row[0])

    def last_position(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT MAX(position) FROM outbox")
            return int(cursor.fetchone()[0] or 0)
