"""The funnel view: per channel and campaign, how many distinct outbound messages were processed,
delivered, opened and clicked, and how many ended bounced or failed.

- `processed`: every outbound message (a send record, or any report of an outbound status or
  of engagement); each outbound message begins at `processed`, reported or not.
- `delivered`: reached `delivered`, reported or proved (`read`, or any email engagement).
- `opened`: had at least one true open. SendGrid flags an open the mail client made on its own
  (`sg_machine_open`), which Engage records as `machine_open`; Segment subtracts machine opens
  from opens and calls the rest True Opened, so `opened` counts messages a person opened and
  `machine_opened` those opened by a machine (a message can be in both).
- `clicked`: had at least one click (a click is counted whether or not an open was seen).
- `bounced` and `failed`: the message's status *now* is a failure end (`FAILURE_ENDS`): a
  report contradicted by a later `delivered` that wins by precedence is not counted.

A message's campaign is its send record's `campaign_id` ('' when none is known yet); when a
send record arrives after the provider's reports, the message moves from the '' row to its
campaign's. Rates (`FunnelRow.rate`) are over processed messages by default (Segment's default
denominator: sent messages) or over delivered ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from adapters.views.base import View
from adapters.views.database import ViewCursor, upsert
from adapters.views.message_facts import OBSERVED, SEND_RECORDED, channel_of, reached
from adapters.views.records import Record
from adapters.views.status import proved_by, read_message_rows
from engage_core import LIFECYCLES, Channel

STAGES = ("processed", "delivered", "opened", "machine_opened", "clicked", "bounced", "failed")
# Which status counts as which failure end, per channel: `bounced` refused by the receiving
# side after hand-over, `failed` never handed over (a canceled send never went out either).
FAILURE_ENDS: Mapping[Channel, Mapping[str, str]] = MappingProxyType(
    {
        Channel.EMAIL: {"bounced": "bounced", "dropped": "failed"},
        Channel.SMS: {"undelivered": "bounced", "failed": "failed", "canceled": "failed"},
        Channel.WHATSAPP: {"undelivered": "bounced", "failed": "failed", "canceled": "failed"},
    }
)
_FLAGS = ("outbound", "delivered", "opened", "machine_opened", "clicked")


def _inbound(channel: Channel) -> frozenset[str]:
    """Statuses of inbound messages: those an outbound message never passes."""
    rules = LIFECYCLES[channel]
    return frozenset(rules.statuses) - rules.descendants[rules.initial] - {rules.initial}


_INBOUND = MappingProxyType({channel: _inbound(channel) for channel in Channel})


@attrs.frozen
class FunnelRow:
    """One channel and campaign's counts of distinct messages."""

    channel: str
    campaign_id: str  # '' for messages with no campaign known
    processed: int
    delivered: int
    opened: int
    machine_opened: int
    clicked: int
    bounced: int
    failed: int

    def rate(self, stage: str, over: str = "processed") -> float | None:
        """`stage` as a share of `over` (processed or delivered); None when there is none."""
        denominator = int(getattr(self, over))
        return int(getattr(self, stage)) / denominator if denominator else None


_NOTHING = (0,) * len(STAGES)
_ENDS: Mapping[tuple[str, str | None], str | None] = MappingProxyType(
    {(c.value, status): end for c, ends in FAILURE_ENDS.items() for status, end in ends.items()}
)


def _contribution(message: Sequence[Any]) -> tuple[int, ...]:
    """What one message (a `funnel_messages` row as a list) adds to its funnel row, by stage."""
    if not message[_OUTBOUND]:
        return _NOTHING
    end = _ENDS.get((message[1], message[3] or ""))
    return (1, int(message[5]), int(message[6]), int(message[7]), int(message[8]),
            int(end == "bounced"), int(end == "failed"))  # fmt: skip


# What a report shows, by kind of report: whether it is outbound, and which flags it sets.
_Shown = tuple[bool, tuple[bool, bool, bool, bool]]
_SHOWN: dict[tuple[Channel, str, tuple[str, ...]], _Shown] = {}
_FLAG_KINDS = ("delivered", "open", "machine_open", "click")  # (the flags after `outbound`)
_MESSAGE_COLUMNS = ("message", "channel", "campaign_id", "status", *_FLAGS)
_OUTBOUND = _MESSAGE_COLUMNS.index("outbound")


def _shown(channel: Channel, proved: frozenset[str]) -> _Shown:
    outbound = not proved <= _INBOUND[channel]
    return outbound, tuple(kind in proved for kind in _FLAG_KINDS)  # type: ignore[return-value]


def _shown_by_report(channel: Channel, status: str, inferred: Sequence[str]) -> _Shown:
    key = (channel, status, tuple(inferred))
    found = _SHOWN.get(key)
    if found is None:
        found = _shown(channel, reached(channel, status, inferred))
        if len(_SHOWN) >= 10_000:
            _SHOWN.clear()
        _SHOWN[key] = found
    return found


class FunnelView(View):
    """`funnel`: counts per (channel, campaign_id); `funnel_messages`: each message's flags,
    kept so a message's contribution can be moved or replaced as its reports arrive.

    A page gathers its messages' rows and the change of each funnel row in memory and writes
    them at the end of the page."""

    name = "funnel"
    reads_records = True  # reads each stored event's JSON (`Record`) field by field
    schema: ClassVar[dict[str, str]] = {
        "funnel": (
            "CREATE TABLE IF NOT EXISTS funnel (channel TEXT NOT NULL, campaign_id TEXT NOT NULL, "
            + "".join(f"{stage} INTEGER NOT NULL, " for stage in STAGES)
            + "PRIMARY KEY (channel, campaign_id)) WITHOUT ROWID"
        ),
        "funnel_messages": (
            "CREATE TABLE IF NOT EXISTS funnel_messages (message TEXT PRIMARY KEY, "
            "channel TEXT NOT NULL, campaign_id TEXT NOT NULL, status TEXT, "
            + ", ".join(f"{flag} INTEGER NOT NULL" for flag in _FLAGS)
            + ") WITHOUT ROWID"
        ),
    }
    order_by: ClassVar[dict[str, str]] = {
        "funnel": "channel, campaign_id",
        "funnel_messages": "message",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._messages: dict[str, list[Any]] = {}  # rows this page read or wrote
        self._changes: dict[tuple[str, str], list[int]] = {}  # funnel row -> deltas by stage
        super().__init__(*args, **kwargs)

    def _clear(self) -> None:
        self._messages.clear()
        self._changes.clear()

    def _message(self, key: str, channel: str) -> list[Any]:
        row = self._messages.get(key)
        if row is None:
            # `_prepare` read every row the page's messages have: this one is new
            row = [key, channel, "", None, 0, 0, 0, 0, 0]
            self._messages[key] = row
        return row

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Record]]) -> None:
        found: dict[str, Any] = {}
        read_message_rows(cursor, "funnel_messages", events, found)
        for key, row in found.items():
            self._messages[key] = [row[column] for column in _MESSAGE_COLUMNS]

    def _apply(self, cursor: ViewCursor, position: int, record: Record) -> None:
        if record.topic == OBSERVED:  # read from the stored JSON: most of a log
            state = record.state
            channel = channel_of(state["channel"])
            outbound, flags = _shown_by_report(channel, state["status"], state["inferred"])
            row = self._message(record.key, channel.value)
            campaign = None
        elif record.topic == SEND_RECORDED:
            event = record.event()
            channel = event.channel
            outbound, flags = True, _shown(channel, proved_by(event)[1])[1]
            row = self._message(record.key, channel.value)
            campaign = event.send.campaign_id or ""
            state = {"status_after": event.status_after}
        else:
            return  # a duplicate changes nothing; consent and quarantine are not messages
        before = _contribution(row)
        where = (row[1], row[2])
        row[3] = state["status_after"]
        if campaign is not None and not row[2]:
            row[2] = campaign  # the first one recorded stands
        row[4] = int(row[4] or outbound)
        row[5] = int(row[5] or flags[0])
        row[6] = int(row[6] or flags[1])
        row[7] = int(row[7] or flags[2])
        row[8] = int(row[8] or flags[3])
        after = _contribution(row)
        if after != before or row[2] != where[1]:
            if before[0]:
                self._add(where, before, -1)
            if after[0]:
                self._add((row[1], row[2]), after, +1)

    def _add(self, where: tuple[str, str], counts: tuple[int, ...], sign: int) -> None:
        """Add (or, with sign -1, take away) one message's contribution to its funnel row."""
        deltas = self._changes.get(where)
        if deltas is None:
            deltas = self._changes[where] = [0] * len(STAGES)
        for stage, count in enumerate(counts):
            deltas[stage] += sign * count

    def _flush(self, cursor: ViewCursor) -> None:
        cursor.executemany(
            upsert("funnel_messages", _MESSAGE_COLUMNS, ("message",)),
            list(self._messages.values()),
        )
        changed = [(where, d) for where, d in self._changes.items() if any(d)]
        cursor.executemany(
            f"INSERT INTO funnel (channel, campaign_id, {', '.join(STAGES)}) "
            f"VALUES (?, ?, {', '.join(['0'] * len(STAGES))}) ON CONFLICT (channel, campaign_id) "
            "DO NOTHING",
            [where for where, _ in changed],
        )
        cursor.executemany(
            f"UPDATE funnel SET {', '.join(f'{s} = {s} + ?' for s in STAGES)} "
            "WHERE channel = ? AND campaign_id = ?",
            [[*d, *where] for where, d in changed],
        )
        # a row no message contributes to any more goes, so rows never depend on history
        cursor.executemany(
            "DELETE FROM funnel WHERE channel = ? AND campaign_id = ? AND processed = 0",
            [where for where, _ in changed],
        )

    def rows(self) -> list[FunnelRow]:
        """Every channel and campaign's counts, in (channel, campaign_id) order."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT channel, campaign_id, {', '.join(STAGES)} FROM funnel "
                f"ORDER BY {self.order_by['funnel']}"
            )
            return [FunnelRow(*row) for row in cursor.fetchall()]
