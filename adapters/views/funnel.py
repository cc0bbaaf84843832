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
from adapters.views.status import proved_by, read_message_rows
from engage_core import LIFECYCLES, Channel, MessageEvent, Observed, SendRecorded

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


def _contribution(message: Mapping[str, Any]) -> dict[str, int]:
    """What one message adds to its funnel row."""
    if not message["outbound"]:
        return dict.fromkeys(STAGES, 0)
    end = FAILURE_ENDS[Channel(message["channel"])].get(message["status"] or "")
    return {
        "processed": 1,
        "delivered": int(message["delivered"]),
        "opened": int(message["opened"]),
        "machine_opened": int(message["machine_opened"]),
        "clicked": int(message["clicked"]),
        "bounced": int(end == "bounced"),
        "failed": int(end == "failed"),
    }


class FunnelView(View):
    """`funnel`: counts per (channel, campaign_id); `funnel_messages`: each message's flags,
    kept so a message's contribution can be moved or replaced as its reports arrive.

    A page gathers its messages' rows and the change of each funnel row in memory and writes
    them at the end of the page."""

    name = "funnel"
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
        self._messages: dict[str, dict[str, Any]] = {}  # rows this page read or wrote
        self._changes: dict[tuple[str, str], dict[str, int]] = {}  # funnel row -> deltas
        super().__init__(*args, **kwargs)

    def process(
        self, events: Sequence[tuple[int, Any]], *, after: int, generation: str | None = None
    ) -> None:
        try:
            super().process(events, after=after, generation=generation)
        finally:  # a failed page leaves nothing half-remembered
            self._messages.clear()
            self._changes.clear()

    def _message(self, cursor: ViewCursor, event: MessageEvent) -> dict[str, Any]:
        key = str(event.originator_id)
        row = self._messages.get(key)
        if row is None:
            # `_prepare` read every row the page's messages have: this one is new
            row = {
                "message": key, "channel": event.channel.value, "campaign_id": "",
                "status": None, **dict.fromkeys(_FLAGS, 0),
            }  # fmt: skip
            self._messages[key] = row
        return row

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Any]]) -> None:
        read_message_rows(cursor, "funnel_messages", events, self._messages)

    def _apply(self, cursor: ViewCursor, position: int, event: Any) -> None:
        if not isinstance(event, SendRecorded | Observed):
            return  # a duplicate changes nothing; consent and quarantine are not messages
        reached = proved_by(event)[1]
        row = self._message(cursor, event)
        self._add(row, -1)
        row["status"] = event.status_after
        if isinstance(event, SendRecorded) and not row["campaign_id"]:
            row["campaign_id"] = event.send.campaign_id or ""  # the first one recorded stands
        outbound = isinstance(event, SendRecorded) or not reached <= _INBOUND[event.channel]
        row["outbound"] = int(row["outbound"] or outbound)
        for flag, kind in (("delivered", "delivered"), ("opened", "open"),
                           ("machine_opened", "machine_open"), ("clicked", "click")):  # fmt: skip
            row[flag] = int(row[flag] or kind in reached)
        self._add(row, +1)

    def _add(self, message: Mapping[str, Any], sign: int) -> None:
        """Add (or, with sign -1, take away) one message's contribution to its funnel row."""
        counts = _contribution(message)
        if counts["processed"]:
            where = (message["channel"], message["campaign_id"])
            deltas = self._changes.setdefault(where, dict.fromkeys(STAGES, 0))
            for stage in STAGES:
                deltas[stage] += sign * counts[stage]

    def _flush(self, cursor: ViewCursor) -> None:
        columns = ["message", "channel", "campaign_id", "status", *_FLAGS]
        cursor.executemany(
            upsert("funnel_messages", columns, ("message",)),
            [[row[c] for c in columns] for row in self._messages.values()],
        )
        changed = [(where, d) for where, d in self._changes.items() if any(d.values())]
        cursor.executemany(
            f"INSERT INTO funnel (channel, campaign_id, {', '.join(STAGES)}) "
            f"VALUES (?, ?, {', '.join(['0'] * len(STAGES))}) ON CONFLICT (channel, campaign_id) "
            "DO NOTHING",
            [where for where, _ in changed],
        )
        cursor.executemany(
            f"UPDATE funnel SET {', '.join(f'{s} = {s} + ?' for s in STAGES)} "
            "WHERE channel = ? AND campaign_id = ?",
            [[d[s] for s in STAGES] + list(where) for where, d in changed],
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
