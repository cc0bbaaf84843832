"""The message-status view: one row per message with its current status, what its send record
said, and when it first reached each milestone.

Milestones are kept order independent: every report that is not a duplicate contributes its
time (the provider's, else when it was recorded) to its own status and to every status it
*proves* (`Lifecycle.implied`: `read` proves `delivered`, `sent`, …; engagement proves
`delivered`), and a milestone is the earliest time contributed. So a late `delivered` report
with an earlier time than the `read` that inferred it moves `delivered_at` back, and the row is
the same whatever order the reports arrived in. The send record contributes `processed` at its
`sent_at` (else when it was recorded). Only the current `status` and `updated_at` follow arrival
(the status converges, by the lifecycle's precedence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from types import MappingProxyType
from typing import Any, ClassVar
from uuid import UUID

from adapters.views.base import View
from adapters.views.database import ViewCursor, select_in, upsert
from adapters.views.message_facts import OBSERVED, SEND_RECORDED, channel_of, instant_of, reached
from adapters.views.records import Record
from engage_core import LIFECYCLES, Observed, SendRecorded

# milestone -> the status (or engagement kind) whose first time it keeps
MILESTONES: Mapping[str, str] = MappingProxyType(
    {
        "processed": "processed",
        "queued": "queued",
        "sent": "sent",
        "delivered": "delivered",
        "read": "read",
        "failed": "failed",
        "undelivered": "undelivered",
        "bounced": "bounced",
        "dropped": "dropped",
        "opened": "open",  # true opens: a machine open is not an open (Segment's definition)
        "clicked": "click",
    }
)
SEND_FIELDS = ("user_id", "to", "campaign_id", "campaign_name", "journey_id", "template_id",
               "email_subject")  # fmt: skip
_SEND_COLUMNS = {"to": "to_address"}  # `to` is an SQL keyword

_MESSAGE_FACTS = frozenset({OBSERVED, SEND_RECORDED})  # duplicates change no message's row
_COLUMNS = (
    "message", "channel", "provider", "provider_message_id", "status",
    *(_SEND_COLUMNS.get(f, f) for f in SEND_FIELDS),
    *(f"{m}_at" for m in MILESTONES),
    "updated_at",
)  # fmt: skip


_ROW = itemgetter(*_COLUMNS)  # a row's values in column order (each row holds every column)


def instant(moment: datetime) -> str:
    """A time as fixed-width UTC ISO 8601 text, so SQL compares and MINs it as a time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def proved_by(event: SendRecorded | Observed) -> tuple[datetime, frozenset[str]]:
    """When a send record or report happened, and every status or engagement kind it shows the
    message reached: its own and all it proves (duplicates prove nothing new: not asked)."""
    rules = LIFECYCLES[event.channel]
    if isinstance(event, SendRecorded):
        return event.send.sent_at or event.recorded_at, frozenset({rules.initial})
    reached = {event.status, *event.inferred}
    if rules.is_engagement(event.status):
        implied = rules.engagement_implies
        if implied is not None:
            reached.update((implied, *rules.implied[implied]))
    else:
        reached.update(rules.implied[event.status])
    return event.occurred_at or event.recorded_at, frozenset(reached)


def read_message_rows(
    cursor: ViewCursor, table: str, events: Sequence[tuple[int, Record]], held: dict[str, Any]
) -> None:
    """The rows of `table` (keyed by `message`) of a page's sends and reports that `held` has
    not, read in one query into `held` (a message left out has no row yet)."""
    wanted = [key for key in dict.fromkeys(r.key for _, r in events if r.topic in _MESSAGE_FACTS)
              if key not in held]  # fmt: skip
    for row in select_in(cursor, f"SELECT * FROM {table} WHERE message IN ({{}})", wanted):
        held[str(row["message"])] = dict(row)


_MILESTONE_COLUMNS: dict[tuple[Any, str, tuple[str, ...]], tuple[str, ...]] = {}


def _milestones(channel: Any, status: str, inferred: Sequence[str]) -> tuple[str, ...]:
    """The milestone columns a report's time counts for (one table entry per kind of report)."""
    key = (channel, status, tuple(inferred))
    found = _MILESTONE_COLUMNS.get(key)
    if found is None:
        proved = reached(channel, status, inferred)
        found = tuple(f"{m}_at" for m, kind in MILESTONES.items() if kind in proved)
        if len(_MILESTONE_COLUMNS) >= 10_000:
            _MILESTONE_COLUMNS.clear()
        _MILESTONE_COLUMNS[key] = found
    return found


class MessageStatusView(View):
    """`message_status`: a message's ids, channel, provider, status, send record and first
    milestone times (UTC ISO 8601 text), keyed by Engage's message id.

    A page's rows are read once, changed in memory and written in one `executemany` at the end
    of the page (a message's events come close together in the log, so most events of a page
    touch a row the page already holds)."""

    name = "message_status"
    reads_records = True  # reads each stored event's JSON (`Record`) field by field
    schema: ClassVar[dict[str, str]] = {
        "message_status": (
            "CREATE TABLE IF NOT EXISTS message_status ("
            "message TEXT PRIMARY KEY, channel TEXT NOT NULL, provider TEXT NOT NULL, "
            "provider_message_id TEXT NOT NULL, status TEXT, "
            + "".join(f"{_SEND_COLUMNS.get(f, f)} TEXT, " for f in SEND_FIELDS)
            + "".join(f"{m}_at TEXT, " for m in MILESTONES)
            + "updated_at TEXT NOT NULL)"
        ),
    }
    order_by: ClassVar[dict[str, str]] = {"message_status": "message"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._page: dict[str, dict[str, Any]] = {}  # rows this page read or wrote
        super().__init__(*args, **kwargs)

    def _clear(self) -> None:
        self._page.clear()

    def _row(self, key: str, channel: str, provider: str, provider_message_id: str
             ) -> dict[str, Any]:  # fmt: skip
        row = self._page.get(key)
        if row is None:
            # `_prepare` read every row the page's messages have: this one is new
            row = dict.fromkeys(_COLUMNS)
            row.update(message=key, channel=channel, provider=provider,
                       provider_message_id=provider_message_id)  # fmt: skip
            self._page[key] = row
        return row

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Record]]) -> None:
        read_message_rows(cursor, "message_status", events, self._page)

    def _apply(self, cursor: ViewCursor, position: int, record: Record) -> None:
        if record.topic == OBSERVED:  # read from the stored JSON: most of a log
            state = record.state
            channel = channel_of(state["channel"])
            columns = _milestones(channel, state["status"], state["inferred"])
            row = self._row(record.key, channel.value, state["provider"],
                            state["provider_message_id"])  # fmt: skip
            row["status"] = state["status_after"]
            row["updated_at"] = instant_of(state["recorded_at"])
            moment = instant_of(state["occurred_at"] or state["recorded_at"])
        elif record.topic == SEND_RECORDED:
            event = record.event()
            at, proved = proved_by(event)
            row = self._row(record.key, event.channel.value, event.provider,
                            event.provider_message_id)  # fmt: skip
            row["status"] = event.status_after
            row["updated_at"] = instant(event.recorded_at)
            for field in SEND_FIELDS:  # the first value recorded for a field stands
                column = _SEND_COLUMNS.get(field, field)
                if row.get(column) is None:
                    row[column] = getattr(event.send, field)
            columns = tuple(f"{m}_at" for m, status in MILESTONES.items() if status in proved)
            moment = instant(at)
        else:
            return  # a duplicate changes nothing; consent and quarantine are not messages
        for column in columns:
            if row.get(column) is None or moment < row[column]:
                row[column] = moment

    def _flush(self, cursor: ViewCursor) -> None:
        cursor.executemany(
            upsert("message_status", _COLUMNS, ("message",)),
            [_ROW(row) for row in self._page.values()],
        )

    def get(self, message: UUID) -> dict[str, Any] | None:
        """The row of one message (`to_address` is the send record's `to`), or None."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT * FROM message_status WHERE message = ?", (str(message),))
            found = cursor.fetchone()
            return dict(found) if found is not None else None
