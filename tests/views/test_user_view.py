"""A view an embedder writes (`View` subclassed outside this package) receives typed domain
events in `_apply` and `_prepare`, as the `View` docstring promises: the built-in views read
each stored event's JSON instead (`reads_records`), and a subclass that did not ask for that
would otherwise match none of its `isinstance` checks and keep no rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from adapters.views import View, catch_up
from adapters.views.database import ViewCursor
from adapters.views.records import Record
from engage_core import EngageApplication, Observation, Observed, Send
from tests.views.conftest import rows


class ReportsView(View):
    """One row per report, kept from typed `Observed` events."""

    name: ClassVar[str] = "user_reports"
    schema: ClassVar[dict[str, str]] = {
        "user_reports": "CREATE TABLE IF NOT EXISTS user_reports ("
        "position INTEGER PRIMARY KEY, status TEXT NOT NULL)",
    }
    order_by: ClassVar[dict[str, str]] = {"user_reports": "position"}

    prepared: list[Any]

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Any]]) -> None:
        self.prepared = [event for _, event in events]

    def _apply(self, cursor: ViewCursor, position: int, event: Any) -> None:
        if isinstance(event, Observed):
            cursor.execute("INSERT INTO user_reports VALUES (?, ?)", (position, event.status))


def test_a_user_view_receives_typed_events_and_keeps_its_rows(app: EngageApplication) -> None:
    app.record_send(Send.create("sms", "twilio", "M1", to="+12135618345", user_id="u1"))
    statuses = ["queued", "sent", "delivered", "read", "failed", "sent", "read", "queued", "sent"]
    app.observe([Observation.create("sms", "twilio", "M1", status, event_id=f"e{i}")
                 for i, status in enumerate(statuses)])  # fmt: skip
    view = ReportsView(":memory:")
    catch_up(app, [view])
    kept = rows(view)["user_reports"]
    assert len(kept) == len(statuses)
    assert [status for _, status in kept] == statuses
    assert view.prepared
    assert not any(isinstance(event, Record) for event in view.prepared)
