"""The 35 names: every one of them published from inputs shaped as the providers send them
(Twilio form callbacks for SMS and WhatsApp, inbound messages too; SendGrid event arrays; Meta
statuses and messages), a subscription CSV, and `record_send`, each through its adapter's
parser and the application, then read from the outbox."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import orjson

from adapters.imports.subscriptions_csv import import_subscriptions
from adapters.providers.base import InboundRequest, ProviderAdapter
from adapters.providers.ingest import ingest
from adapters.providers.meta import MetaAdapter
from adapters.providers.sendgrid import SendGridAdapter
from adapters.providers.twilio import TwilioAdapter
from adapters.views import OutboxView, Views, catch_up
from engage_core import EngageApplication, Send
from engage_core.segment import ALL_EVENT_NAMES, LEGACY_GROUP_UNSUBSCRIBED, EventSettings
from tests.views.backends import ViewBackend

PAYLOADS = Path(__file__).parents[1] / "providers" / "payloads"
FORM = "application/x-www-form-urlencoded"
URL = "https://engage.example.com/webhooks/twilio"


def feed(app: EngageApplication, adapter: ProviderAdapter, request: InboundRequest) -> None:
    """Parse (the signature is tested elsewhere) and apply; nothing may be held back."""
    report = ingest(app, adapter, request, verify=False)
    assert (report.rejected, report.quarantined) == (0, 0), report.errors


def twilio_fixture(name: str) -> dict[str, str]:
    return dict(parse_qsl(json.loads((PAYLOADS / "twilio" / f"{name}.json").read_text())["body"]))


def twilio(params: dict[str, str], **changes: str) -> InboundRequest:
    """A Twilio callback as Twilio posts it: the fixture's parameters, some changed."""
    merged = {**params, **changes}
    if "MessageStatus" in changes:
        merged["SmsStatus"] = changes["MessageStatus"]
    return InboundRequest(urlencode(merged).encode(), {"Content-Type": FORM}, url=URL)


def json_request(body: object) -> InboundRequest:
    return InboundRequest(orjson.dumps(body), {"Content-Type": "application/json"}, url=URL)


def drive_twilio(app: EngageApplication) -> None:
    adapter = TwilioAdapter(None)
    sms = twilio_fixture("sms-delivered")
    app.record_send(Send.create("sms", "twilio", sms["MessageSid"], to=sms["To"]))  # Processed
    for status in ("queued", "sending", "sent", "delivered", "read"):
        feed(app, adapter, twilio(sms, MessageStatus=status))
    feed(app, adapter, twilio(sms, MessageSid="SM" + "f" * 32, MessageStatus="failed",
                              ErrorCode="30008"))  # fmt: skip
    undelivered = twilio_fixture("sms-undelivered")
    feed(app, adapter, twilio(undelivered, MessageStatus="sent"))
    feed(app, adapter, twilio(undelivered))
    inbound = twilio_fixture("sms-inbound-stop")  # STOP: Channel Subscription Updated too
    feed(app, adapter, twilio(inbound, MessageStatus="receiving"))
    feed(app, adapter, twilio(inbound))

    whatsapp = twilio_fixture("whatsapp-read")
    for status in ("accepted", "queued", "sending", "sent", "delivered", "read"):
        feed(app, adapter, twilio(whatsapp, MessageStatus=status))
    sent = twilio_fixture("whatsapp-sent")
    feed(app, adapter, twilio(sent))
    feed(app, adapter, twilio(sent, MessageStatus="undelivered", ErrorCode="63016"))
    feed(app, adapter, twilio(sent, MessageSid="SM" + "e" * 32, MessageStatus="failed",
                              ErrorCode="63003"))  # fmt: skip
    hello = twilio_fixture("whatsapp-inbound")
    feed(app, adapter, twilio(hello, MessageStatus="receiving"))
    feed(app, adapter, twilio(hello))


def drive_meta(app: EngageApplication) -> None:
    adapter = MetaAdapter(None)
    for name in ("status_sent", "status_delivered", "status_read", "status_failed",
                 "message_text"):  # fmt: skip
        feed(
            app, adapter, json_request(json.loads((PAYLOADS / "meta" / f"{name}.json").read_text()))
        )


def drive_sendgrid(app: EngageApplication) -> None:
    events = json.loads((PAYLOADS / "sendgrid" / "all_events.json").read_text())
    opened = next(e for e in events if e["event"] == "open")
    machine = {
        **opened,
        "sg_event_id": "machine-1",
        "sg_machine_open": True,
        "timestamp": 1513299570,
    }
    feed(app, SendGridAdapter(None), json_request([*events, machine]))
    app.record_send(Send.create("email", "sendgrid", "X-Message-Id-2", to="jo@example.com"))


def drive_csv(app: EngageApplication) -> None:
    csv = (
        "email,email_subscription_status,Newsletter_subscription_status\n"
        "ann@example.com,subscribed,subscribed\n"
    )
    result = import_subscriptions(app, io.StringIO(csv), source="subscriptions.csv")
    assert result.rejected == 0


def published(app: EngageApplication, outbox: OutboxView) -> set[str]:
    catch_up(app, [outbox])
    return {entry.event for entry in outbox.entries()}


def test_every_name_is_published_from_provider_shaped_inputs(app: EngageApplication,
                                                              views: Views) -> None:  # fmt: skip
    drive_twilio(app)
    drive_meta(app)
    drive_sendgrid(app)
    drive_csv(app)
    names = published(app, views.outbox)
    assert names == set(ALL_EVENT_NAMES), (
        set(ALL_EVENT_NAMES) - names,
        names - set(ALL_EVENT_NAMES),
    )


class LegacyOutbox(OutboxView):
    settings = EventSettings(legacy_group_unsubscribed_spelling=True)


def test_the_legacy_spelling_replaces_one_name(
    app: EngageApplication, views: Views, view_backend: ViewBackend
) -> None:
    drive_sendgrid(app)
    legacy = LegacyOutbox(view_backend.database())  # tables of its own
    current = published(app, views.outbox)
    old = published(app, legacy)
    assert old - current == {LEGACY_GROUP_UNSUBSCRIBED}
    assert current - old == {"Email Group Unsubscribed"}
