"""What the views read of the log: each stored event decoded from its JSON once (`Record`), upcast
as the mapper upcasts it, and handed to every view as plain values.

Structuring every event into its typed class (cattrs, attrs validators, enums, datetimes, a
`UUID`) cost more than all a view does with the three or four fields it reads, and each view
reads different ones. So a record keeps the stored JSON as a dict, and a view reads the fields
it needs straight from it for the event it sees most (`Observed`), after a cheap check that
each field has the JSON type its class stores (so a damaged report is refused as the mapper
refuses it, not projected). Every other event is structured into its typed class when it is
decoded (`Record.event`), once per record and shared by every view, through the same upcasters
and structuring as the application's mapper: those are read typed, or skipped by every view
(`DuplicateIgnored`), and a damaged one stops the catch-up either way.

A page of a SQLite store is read with one statement of our own (`read_page`): the recorder's
notifications would make a `UUID` and a notification object per event only for the views to
take them apart again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import cattrs
import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from engage_core.channels import Channel
from engage_core.message.events import Observed, Outcome
from engage_core.serialisation import (
    EVENT_CLASSES,
    CattrsMapper,
    UnknownTopicError,
    UnreadableEventError,
    converter,
)

__all__ = ["Record", "as_record", "decode", "read_page", "records_of"]


class Record:
    """One stored event: its topic, aggregate id (hex), version and upcast JSON state."""

    __slots__ = ("_event", "_key", "hex", "state", "topic", "version")

    def __init__(
        self, topic: str, hex_id: str, version: int, state: dict[str, Any], event: Any = None
    ) -> None:
        self.topic = topic
        self.hex = hex_id
        self.version = version
        self.state = state
        self._event = event
        self._key: str | None = None

    @property
    def key(self) -> str:
        """The aggregate id as `str(UUID)` spells it (the status and funnel views' key)."""
        if self._key is None:
            h = self.hex
            self._key = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        return self._key

    def event(self) -> Any:
        """The typed domain event, structured as the application's mapper structures it
        (`UnreadableEventError` when the state does not match its class)."""
        if self._event is None:
            cls = EVENT_CLASSES[self.topic]
            state = dict(self.state)
            state["originator_id"] = UUID(hex=self.hex)
            state["originator_version"] = self.version
            try:
                self._event = converter.structure(state, cls)
            except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as error:
                raise UnreadableEventError(
                    f"stored event {self.key} v{self.version} ({self.topic}) does not match "
                    f"its class: {error}"
                ) from error
        return self._event


def decode(topic: str, hex_id: str, version: int, data: bytes, mapper: Any = None) -> Record:
    """A stored event's record: its JSON decoded once (deciphered and decompressed first as
    `mapper` does) and brought up to its class's current version by the class's upcasters.
    Only the stock `CattrsMapper` is read this way: an application given a mapper of its own
    (`MAPPER_TOPIC`) may store events otherwise, so each event is its mapper's typed event."""
    if mapper is not None and type(mapper) is not CattrsMapper:
        stored = StoredEvent(originator_id=UUID(hex=hex_id), originator_version=version,
                             topic=topic, state=data)  # fmt: skip
        return as_record(mapper.to_domain_event(stored))
    cls = EVENT_CLASSES.get(topic)
    if cls is None:
        raise UnknownTopicError(f"no event class is registered for topic {topic!r}")
    if mapper is not None:
        cipher, compressor = getattr(mapper, "cipher", None), getattr(mapper, "compressor", None)
        if cipher:
            data = cipher.decrypt(data)
        if compressor:
            data = compressor.decompress(data)
    try:
        state = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise UnreadableEventError(
            f"stored event {hex_id} v{version} ({topic}) is not JSON: {error}"
        ) from error
    if not isinstance(state, dict):
        raise UnreadableEventError(
            f"stored event {hex_id} v{version} ({topic}) is not a JSON object"
        )
    was = state.pop("class_version", 1)
    current = getattr(cls, "class_version", 1)
    while was < current:
        getattr(cls, f"upcast_v{was}_v{was + 1}")(state)
        was += 1
    record = Record(topic, hex_id, version, state)
    if topic == _OBSERVED:
        fault = _observed_fault(state)
        if fault is not None:
            raise UnreadableEventError(
                f"stored event {record.key} v{version} ({topic}) does not match its class: "
                f"{fault}"
            )
    else:
        record.event()  # not read field by field: structured here, refused as the mapper does
    return record


# What a view reads of an `Observed`'s JSON, checked as structuring would check it, so a
# damaged report stops a catch-up (`UnreadableEventError`) rather than being projected: the
# JSON types of its fields and its two enums. Times are checked as strings (or null) only;
# one that does not parse fails where a view reads it, and is named as the mapper names it.
_OBSERVED = Observed.TOPIC
_CHANNELS = frozenset(channel.value for channel in Channel)
_OUTCOMES = frozenset(outcome.value for outcome in Outcome)
_TEXTS = ("provider", "provider_message_id", "status", "status_after", "recorded_at")
_TEXTS_OR_NULL = ("occurred_at", "event_id", "claimed_at")
_TEXT_LISTS = ("dedup_keys", "inferred")


def _observed_fault(state: dict[str, Any]) -> str | None:
    """What is wrong with an upcast `Observed` state (None: nothing a view would trip on)."""
    get = state.get
    if get("channel") not in _CHANNELS:
        return f"channel {get('channel')!r} is no channel"
    if get("outcome") not in _OUTCOMES:
        return f"outcome {get('outcome')!r} is no outcome"
    for name in _TEXTS:
        if type(get(name)) is not str:
            return f"{name} is not a string"
    for name in _TEXTS_OR_NULL:
        value = get(name)
        if value is not None and type(value) is not str:
            return f"{name} is neither a string nor null"
    for name in _TEXT_LISTS:
        items = get(name)
        if type(items) is not list or not all(type(item) is str for item in items):
            return f"{name} is not a list of strings"
    if type(get("details")) is not dict:
        return "details is not an object"
    facts = get("facts")
    if facts is not None and type(facts) is not dict:
        return "facts is not an object"
    return None


def as_record(event: Any) -> Record:
    """A typed event handed to a view (by an embedder or a test) as the record the log would
    give for it: its state as the mapper stores it, read back."""
    if isinstance(event, Record):
        return event
    topic = getattr(type(event), "TOPIC", None)
    if topic is None or EVENT_CLASSES.get(topic) is not type(event):
        return Record("", "0" * 32, 0, {}, event)  # no stored event: every view ignores it
    state = orjson.loads(orjson.dumps(converter.unstructure(event, unstructure_as=type(event))))
    originator: UUID = state.pop("originator_id", event.originator_id)
    state.pop("originator_version", None)
    return Record(topic, UUID(str(originator)).hex, event.originator_version, state, event)


def records_of(events: Sequence[tuple[int, Any]]) -> Sequence[tuple[int, Record]]:
    """`(position, event)` pairs as `(position, record)` pairs (records are kept as given)."""
    if all(type(event) is Record for _, event in events):
        return events
    return [(position, as_record(event)) for position, event in events]


def read_page(app: Any, start: int, limit: int, stop: int) -> list[tuple[int, Record]]:
    """The records after position `start`, up to `stop`, at most `limit` of them, in log
    order. A SQLite store is read with one plain statement; any other through its recorder."""
    recorder: Any = app.recorder
    mapper: Any = app.mapper
    datastore = getattr(recorder, "datastore", None)
    table = getattr(recorder, "events_table_name", None)
    if isinstance(datastore, SQLiteDatastore) and table:
        with datastore.transaction(commit=False) as cursor:
            plain = cursor.sqlite_cursor.connection.cursor()
            plain.row_factory = None  # tuples: a `sqlite3.Row` per event costs more than it reads
            plain.execute(
                "SELECT rowid, topic, originator_id, originator_version, state "
                f"FROM {table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                (start, stop, limit),
            )
            rows = plain.fetchall()
            plain.close()
        # an id is stored as 32 hex digits; anything else is read as the recorder reads it
        return [(r[0], decode(r[1], _hex(r[2]), r[3], r[4], mapper)) for r in rows]
    notifications = recorder.select_notifications(start, limit, stop=stop,
                                                  inclusive_of_start=False)  # fmt: skip
    return [
        (n.id, decode(n.topic, n.originator_id.hex, n.originator_version, n.state, mapper))
        for n in notifications
    ]


def _hex(stored: Any) -> str:
    if isinstance(stored, str) and len(stored) == 32 and stored == stored.lower():
        return stored
    return UUID(str(stored)).hex
