"""Message facts change consent in the same observe() batch (issue 3 §4): email unsubscribe,
spam report, group events, and inbound STOP/START keywords, end to end on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage_core import EngageApplication, Observation, Send
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ChannelUpdateRecorded
from engage_core.consent.policies import PolicySettings
from engage_core.consent.rules import ErrorCode, SourceKind, SubscriptionStatus
from tests.conftest import sqlite_env
from tests.core.test_consent_rules import update

SUB, UNSUB = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
NUMBER = "+12135618345"


@pytest.fixture
def app(tmp_path: Path) -> EngageApplication:
    return EngageApplication(env=sqlite_env(tmp_path / "p.db"))


def inbound(text: str, event_id: str, channel: str = "sms") -> Observation:
    return Observation.create(
        channel, "twilio", f"SM-in-{event_id}", "received", event_id=event_id,
        occurred_at=f"2026-03-01T00:{int(event_id):02d}:00Z",
        details={"From": NUMBER if channel == "sms" else f"whatsapp:{NUMBER}", "Body": text},
    )  # fmt: skip


def test_inbound_stop_refuses_operators_until_start(app: EngageApplication) -> None:
    sms = ContactKey.parse("sms", NUMBER)
    app.set_channel_subscriptions([(sms, update(SUB, 0))])
    app.observe([inbound("  stop ", "1")])  # any case, whole message trimmed
    channel = app.channel_subscription(sms)
    assert channel is not None
    assert channel.current.locked_by_user
    (refused,) = app.set_channel_subscriptions([(sms, update(SUB, 2, SourceKind.CSV))])
    assert isinstance(refused, ChannelUpdateRecorded)
    assert refused.error is ErrorCode.UNABLE_TO_SUBSCRIBE
    app.observe([inbound("Start", "3")])
    (allowed,) = app.set_channel_subscriptions([(sms, update(UNSUB, 4, SourceKind.CSV))])
    assert isinstance(allowed, ChannelUpdateRecorded)
    assert allowed.after.status is UNSUB
    # the same number on WhatsApp is another vector, untouched by the SMS STOP
    assert app.channel_subscription(ContactKey.parse("whatsapp", NUMBER)) is None


def test_words_that_are_not_keywords_change_nothing(app: EngageApplication) -> None:
    app.observe([inbound("please stop texting me", "1"), inbound("STOP", "2", "whatsapp")])
    assert app.channel_subscription(ContactKey.parse("sms", NUMBER)) is None
    whatsapp = app.channel_subscription(ContactKey.parse("whatsapp", NUMBER))
    assert whatsapp is not None
    assert whatsapp.current.locked_by_user


def test_email_facts_unsubscribe_and_move_groups(app: EngageApplication) -> None:
    email = ContactKey.parse("email", "jane@example.com")
    app.set_channel_subscriptions([(email, update(SUB, 0))])
    app.set_group_subscriptions([(email, "newsletter", update(SUB, 1))])
    send = Send.create("email", "sendgrid", "m1", to="Jane@Example.com", user_id="user-7")
    result = app.observe(
        [
            send,
            Observation.create("email", "sendgrid", "m1", "group_unsubscribe", event_id="g",
                               occurred_at="2026-03-01T00:05:00Z",
                               details={"group": "newsletter"}),
            Observation.create("email", "sendgrid", "m1", "unsubscribe", event_id="u",
                               occurred_at="2026-03-01T00:06:00Z"),
        ]
    )  # fmt: skip
    assert result.received == 3  # the counts are about the inputs; consent comes on top
    channel = app.channel_subscription(email)
    assert channel is not None
    assert channel.current.status is UNSUB
    assert app.group_subscription(email, "newsletter").status is UNSUB
    provenance = channel.updates[-1].provenance
    assert (provenance.kind, provenance.source_id) == (SourceKind.PROVIDER, "u")
    assert provenance.user_id == "user-7"  # the send record links the address to its user
    assert app.groups_of(email) == ("newsletter",)


def test_spam_reports_unsubscribe_unless_turned_off(tmp_path: Path) -> None:
    report = Observation.create("email", "sendgrid", "m2", "spamreport", event_id="s",
                                details={"email": "bob@example.com"})  # fmt: skip
    email = ContactKey.parse("email", "bob@example.com")
    on = EngageApplication(env=sqlite_env(tmp_path / "on.db"))
    on.observe([report])
    channel = on.channel_subscription(email)
    assert channel is not None
    assert channel.current.status is UNSUB

    class Lenient(EngageApplication):
        policy_settings = PolicySettings(spam_report_unsubscribes=False)

    off = Lenient(env=sqlite_env(tmp_path / "off.db"))
    off.observe([report])
    assert off.channel_subscription(email) is None


def test_a_duplicate_report_changes_consent_once(app: EngageApplication) -> None:
    report = Observation.create("email", "sendgrid", "m3", "unsubscribe", event_id="u",
                                details={"email": "c@example.com"})  # fmt: skip
    app.observe([report])
    app.observe([report])
    channel = app.channel_subscription(ContactKey.parse("email", "c@example.com"))
    assert channel is not None
    assert len(channel.updates) == 1
