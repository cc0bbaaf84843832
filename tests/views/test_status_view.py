"""The message-status view: current status, the send record, and first milestone times that do
not depend on the order reports arrived in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import MessageStatusView, Views, catch_up
from engage_core import Channel, EngageApplication, Observation, Send, message_id
from tests.conftest import FIXED_TIME
from tests.core.strategies import arrivals, message_reports
from tests.views.backends import ViewBackend, examples
from tests.views.conftest import memory_app

T0 = FIXED_TIME - timedelta(hours=1)


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def status_view(views: Views) -> MessageStatusView:
    view = views.by_name[MessageStatusView.name]
    assert isinstance(view, MessageStatusView)
    return view


def row_of(app: EngageApplication, views: Views, channel: str, provider: str, pmid: str
           ) -> dict[str, Any]:  # fmt: skip
    catch_up(app, [status_view(views)])
    found = status_view(views).get(message_id(Channel(channel), provider, pmid))
    assert found is not None
    return found


def report(channel: str, status: str, seconds: int, event_id: str, pmid: str = "M1"
           ) -> Observation:  # fmt: skip
    provider = "sendgrid" if channel == "email" else "twilio"
    return Observation.create(channel, provider, pmid, status, occurred_at=T0 + timedelta(
        seconds=seconds), event_id=event_id)  # fmt: skip


def test_a_read_proves_what_came_before_it_until_an_earlier_report_arrives(
    app: EngageApplication, views: Views
) -> None:
    app.record_send(Send.create("sms", "twilio", "M1", to="+12135618345", user_id="u1",
                                campaign_id="spring", sent_at=T0))  # fmt: skip
    app.observe([report("sms", "read", 60, "e1")])
    row = row_of(app, views, "sms", "twilio", "M1")
    assert (row["status"], row["processed_at"]) == ("read", at(0))
    assert row["queued_at"] == row["sent_at"] == row["delivered_at"] == row["read_at"] == at(60)
    assert (row["user_id"], row["to_address"], row["campaign_id"]) == ("u1", "+12135618345",
                                                                        "spring")  # fmt: skip

    app.observe([report("sms", "delivered", 30, "e2"), report("sms", "sent", 70, "e3")])
    row = row_of(app, views, "sms", "twilio", "M1")
    assert row["status"] == "read"  # late reports never move a status back
    assert row["delivered_at"] == row["sent_at"] == row["queued_at"] == at(30)
    assert row["read_at"] == at(60)
    assert row["failed_at"] is None


def test_email_engagement_true_opens_clicks_and_a_send_record_after_the_reports(
    app: EngageApplication, views: Views
) -> None:
    kinds = ["machine_open", "open", "click", "bounced"]
    app.observe([report("email", kind, 10 * (n + 1), f"e{n}") for n, kind in enumerate(kinds)])
    app.record_send(Send.create("email", "sendgrid", "M1", campaign_id="c", email_subject="Hi"))
    row = row_of(app, views, "email", "sendgrid", "M1")
    assert row["status"] == "delivered"  # engagement proves delivery; it outranks the bounce
    assert (row["delivered_at"], row["opened_at"], row["clicked_at"]) == (at(10), at(20), at(30))
    assert row["bounced_at"] == at(40)
    assert row["processed_at"] == FIXED_TIME.isoformat(timespec="microseconds")  # recorded
    assert (row["campaign_id"], row["email_subject"]) == ("c", "Hi")


def test_duplicates_change_nothing(app: EngageApplication, views: Views) -> None:
    app.observe([report("sms", "sent", 10, "e1")])
    before = row_of(app, views, "sms", "twilio", "M1")
    app.observe([report("sms", "sent", 10, "e1")])
    assert row_of(app, views, "sms", "twilio", "M1") == before


def test_the_row_is_the_same_whatever_the_arrival_order(view_backend: ViewBackend) -> None:
    @examples(view_backend, settings())
    @given(st.data())
    def same_row(data: st.DataObject) -> None:
        reports = data.draw(message_reports())
        found = []
        for _ in range(2):
            app = memory_app()
            with view_backend.fresh_database() as database:
                view = MessageStatusView(database)
                app.observe(data.draw(arrivals(reports)))
                catch_up(app, [view])
                found.append(view.get(reports[0].message_id))
            app.close()
        assert found[0] == found[1]

    same_row()
