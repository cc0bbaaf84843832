"""The funnel view: distinct messages per channel and campaign at each stage, true opens apart
from machine opens, failure ends by the status that stands, and rates."""

from __future__ import annotations

from adapters.views import FunnelRow, FunnelView, Views, catch_up
from engage_core import EngageApplication, Observation, Send


def funnel(app: EngageApplication, views: Views) -> dict[tuple[str, str], FunnelRow]:
    view = views.by_name[FunnelView.name]
    assert isinstance(view, FunnelView)
    catch_up(app, [view])
    return {(row.channel, row.campaign_id): row for row in view.rows()}


def email(pmid: str, *statuses: str) -> list[Observation]:
    return [Observation.create("email", "sendgrid", pmid, s, event_id=f"{pmid}-{n}")
            for n, s in enumerate(statuses)]  # fmt: skip


def sms(pmid: str, *statuses: str) -> list[Observation]:
    return [Observation.create("sms", "twilio", pmid, s, event_id=f"{pmid}-{n}")
            for n, s in enumerate(statuses)]  # fmt: skip


def test_counts_per_channel_and_campaign(app: EngageApplication, views: Views) -> None:
    sends = [Send.create("email", "sendgrid", f"E{n}", campaign_id="spring") for n in range(4)]
    app.observe(
        [*sends,
         *email("E0", "delivered", "open", "open", "machine_open", "click"),
         *email("E1", "machine_open"),  # proves delivery; a machine's open only
         *email("E2", "bounced"),
         *email("E3", "dropped"),
         *sms("S1", "sent", "undelivered"), *sms("S2", "failed"), *sms("S3", "read"),
         *sms("IN", "received")]  # inbound: not in the funnel
    )  # fmt: skip
    rows = funnel(app, views)
    assert rows[("email", "spring")] == FunnelRow("email", "spring", processed=4, delivered=2,
        opened=1, machine_opened=2, clicked=1, bounced=1, failed=1)  # fmt: skip
    assert rows[("sms", "")] == FunnelRow("sms", "", processed=3, delivered=1, opened=0,
        machine_opened=0, clicked=0, bounced=1, failed=1)  # fmt: skip
    assert set(rows) == {("email", "spring"), ("sms", "")}
    assert rows[("email", "spring")].rate("bounced") == 0.25
    assert rows[("email", "spring")].rate("opened", over="delivered") == 0.5


def test_a_failure_overruled_by_delivery_is_not_counted(
    app: EngageApplication, views: Views
) -> None:
    app.observe(sms("S1", "sent", "undelivered", "delivered"))
    row = funnel(app, views)[("sms", "")]
    assert (row.delivered, row.bounced) == (1, 0)


def test_a_late_send_record_moves_the_message_to_its_campaign(
    app: EngageApplication, views: Views
) -> None:
    app.observe(email("E1", "delivered"))
    assert set(funnel(app, views)) == {("email", "")}
    app.record_send(Send.create("email", "sendgrid", "E1", campaign_id="late"))
    app.record_send(Send.create("email", "sendgrid", "E1", campaign_id="other"))  # first stands
    rows = funnel(app, views)
    assert set(rows) == {("email", "late")}  # the '' row is gone, not left at zero
    assert (rows[("email", "late")].processed, rows[("email", "late")].delivered) == (1, 1)


def test_no_rate_without_a_denominator() -> None:
    empty = FunnelRow("sms", "", 0, 0, 0, 0, 0, 0, 0)
    assert empty.rate("delivered") is None
