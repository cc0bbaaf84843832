"""The stock message-status, funnel and outbox views, which read each stored event's JSON
(`reads_records`), keep the same rows as the views did when they read typed events: reference
views that take typed events (`reads_records = False`) and apply them with the `_apply` each
view had before it read JSON (`git show 004de02:adapters/views/status.py`, `funnel.py` and
`outbox.py`, copied here as they were), over generated workloads, with reports stored at
every stored version of `Observed`, paged at random.

(A stock view handed typed events turns them back into records, so comparing it with itself
would hold nothing: the reference here is the typed code itself.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import View
from adapters.views.database import ViewCursor, select_in, upsert
from adapters.views.funnel import _FLAGS, _INBOUND, FAILURE_ENDS, STAGES, FunnelView
from adapters.views.outbox import OutboxView
from adapters.views.records import decode
from adapters.views.status import (
    _COLUMNS,
    _SEND_COLUMNS,
    MILESTONES,
    SEND_FIELDS,
    MessageStatusView,
    instant,
    proved_by,
)
from engage_core import Channel, MessageEvent, Observed, SendRecorded
from engage_core.segment import EventSettings
from tests.views.conftest import rows
from tests.views.test_fast_decode import _run, stored_log, versions
from tests.views.test_fast_publishing import TypedOutbox


def _typed_message_rows(
    cursor: ViewCursor, table: str, events: Sequence[tuple[int, Any]], held: dict[str, Any]
) -> None:
    """`status.read_message_rows` as it was, over typed events."""
    wanted = [key for key in dict.fromkeys(str(e.originator_id) for _, e in events
                                           if isinstance(e, SendRecorded | Observed))
              if key not in held]  # fmt: skip
    for row in select_in(cursor, f"SELECT * FROM {table} WHERE message IN ({{}})", wanted):
        held[str(row["message"])] = dict(row)


class TypedStatus(MessageStatusView):
    """The message-status view as it was: typed events, `proved_by` for every report."""

    reads_records: ClassVar[bool] = False

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Any]]) -> None:
        _typed_message_rows(cursor, "message_status", events, self._page)

    def _apply(self, cursor: ViewCursor, position: int, event: Any) -> None:
        if not isinstance(event, SendRecorded | Observed):
            return
        at, reached = proved_by(event)
        row = self._row(str(event.originator_id), event.channel.value, event.provider,
                        event.provider_message_id)  # fmt: skip
        row["status"] = event.status_after
        row["updated_at"] = instant(event.recorded_at)
        if isinstance(event, SendRecorded):
            for field in SEND_FIELDS:
                column = _SEND_COLUMNS.get(field, field)
                if row.get(column) is None:
                    row[column] = getattr(event.send, field)
        moment = instant(at)
        for milestone, status in MILESTONES.items():
            column = f"{milestone}_at"
            if status in reached and (row.get(column) is None or moment < row[column]):
                row[column] = moment

    def _flush(self, cursor: ViewCursor) -> None:
        cursor.executemany(
            upsert("message_status", _COLUMNS, ("message",)),
            [[row.get(column) for column in _COLUMNS] for row in self._page.values()],
        )


def _contribution(message: Mapping[str, Any]) -> dict[str, int]:
    """`funnel._contribution` as it was (over a message's row as a dict)."""
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


class TypedFunnel(FunnelView):
    """The funnel view as it was: typed events, rows as dicts, `proved_by` for every report."""

    reads_records: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._typed: dict[str, dict[str, Any]] = {}
        self._deltas: dict[tuple[str, str], dict[str, int]] = {}

    def _clear(self) -> None:
        self._typed.clear()
        self._deltas.clear()

    def _typed_message(self, event: MessageEvent) -> dict[str, Any]:
        key = str(event.originator_id)
        row = self._typed.get(key)
        if row is None:
            row = {
                "message": key, "channel": event.channel.value, "campaign_id": "",
                "status": None, **dict.fromkeys(_FLAGS, 0),
            }  # fmt: skip
            self._typed[key] = row
        return row

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Any]]) -> None:
        _typed_message_rows(cursor, "funnel_messages", events, self._typed)

    def _apply(self, cursor: ViewCursor, position: int, event: Any) -> None:
        if not isinstance(event, SendRecorded | Observed):
            return
        reached = proved_by(event)[1]
        row = self._typed_message(event)
        self._typed_add(row, -1)
        row["status"] = event.status_after
        if isinstance(event, SendRecorded) and not row["campaign_id"]:
            row["campaign_id"] = event.send.campaign_id or ""
        outbound = isinstance(event, SendRecorded) or not reached <= _INBOUND[event.channel]
        row["outbound"] = int(row["outbound"] or outbound)
        for flag, kind in (("delivered", "delivered"), ("opened", "open"),
                           ("machine_opened", "machine_open"), ("clicked", "click")):  # fmt: skip
            row[flag] = int(row[flag] or kind in reached)
        self._typed_add(row, +1)

    def _typed_add(self, message: Mapping[str, Any], sign: int) -> None:
        counts = _contribution(message)
        if counts["processed"]:
            where = (message["channel"], message["campaign_id"])
            deltas = self._deltas.setdefault(where, dict.fromkeys(STAGES, 0))
            for stage in STAGES:
                deltas[stage] += sign * counts[stage]

    def _flush(self, cursor: ViewCursor) -> None:
        columns = ["message", "channel", "campaign_id", "status", *_FLAGS]
        cursor.executemany(
            upsert("funnel_messages", columns, ("message",)),
            [[row[c] for c in columns] for row in self._typed.values()],
        )
        changed = [(where, d) for where, d in self._deltas.items() if any(d.values())]
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
        cursor.executemany(
            "DELETE FROM funnel WHERE channel = ? AND campaign_id = ? AND processed = 0",
            [where for where, _ in changed],
        )


SETTINGS = (EventSettings(), EventSettings(legacy_group_unsubscribed_spelling=True))


@settings(max_examples=max(10, settings().max_examples // 5), deadline=None)
@given(seed=st.integers(0, 2**32 - 1), picked=versions, page=st.integers(1, 40),
       legacy=st.booleans())  # fmt: skip
def test_the_stock_views_keep_the_rows_the_typed_views_kept(
    seed: int, picked: list[int], page: int, legacy: bool
) -> None:
    chosen = SETTINGS[legacy]
    app = _run(seed)
    pairs: list[tuple[View, View]] = [
        (MessageStatusView(":memory:"), TypedStatus(":memory:")),
        (FunnelView(":memory:"), TypedFunnel(":memory:")),
        (OutboxView(":memory:", settings=chosen), TypedOutbox(":memory:", settings=chosen)),
    ]
    try:
        log = stored_log(app, picked)
        records = [(p, decode(n.topic, UUID(str(n.originator_id)).hex, n.originator_version,
                              n.state, app.mapper)) for p, n in log]  # fmt: skip
        typed = [(p, app.mapper.to_domain_event(n)) for p, n in log]
        assert any(isinstance(e, Observed) for _, e in typed)
        for start in range(0, len(log), page):
            after = log[start - 1][0] if start else 0
            for stock, reference in pairs:
                assert stock.reads_records
                assert not reference.reads_records
                stock.process(records[start : start + page], after=after)
                reference.process(typed[start : start + page], after=after)
        for stock, reference in pairs:
            assert rows(stock) == rows(reference), stock.name
            assert stock.digest() == reference.digest(), stock.name
    finally:
        for stock, reference in pairs:
            stock.datastore.close()
            reference.datastore.close()
        app.close()
