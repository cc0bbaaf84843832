"""Suppression on a real SQLite file store (`adapters.open_application("sqlite:///…")`): a report
and the suppression it causes land in one save; the state survives reopening the store; a
rederive under a new version records its corrective changes once; and the views rebuild over a
log holding suppression events, publishing none of them downstream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.queries import events_page
from adapters.stores import open_application
from adapters.views import views_of
from adapters.views.runner import rebuild
from engage_core import Observation
from engage_core.consent.contacts import ContactKey
from engage_core.suppression import FactKind, SuppressionPolicy
from tests.conftest import record_saves

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
EMAIL = ContactKey.parse("EMAIL", "ann@example.com")
PHONE = ContactKey.parse("SMS", "+12135550142")


def _reports() -> list[Observation]:
    def email(n: int, status: str, **facts: str) -> Observation:
        return Observation.create(
            "email", "sendgrid", f"sg-{n}", status, occurred_at=T0 + timedelta(hours=n),
            event_id=f"sg-ev-{n}", facts={"contact": EMAIL.key, **facts},
        )  # fmt: skip

    def sms(n: int, code: str) -> Observation:
        return Observation.create(
            "sms", "twilio", f"SM{n}", "undelivered", occurred_at=T0 + timedelta(hours=n),
            event_id=f"tw-{n}", facts={"contact": PHONE.key, "error_code": code},
        )  # fmt: skip

    return [
        email(1, "bounce", bounce_type="blocked"), email(2, "bounce", bounce_type="blocked"),
        email(3, "bounce", bounce_type="blocked"), email(4, "spamreport"),
        sms(1, "30003"), sms(30, "30005"),
    ]  # fmt: skip


def test_suppressed_in_the_reports_own_save_and_kept_across_reopening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'engage.db'}"
    app = open_application(url)
    saves = record_saves(app, monkeypatch)
    app.observe(_reports())
    [recordings] = saves  # one save: the reports, the consent change, the suppressions
    topics = {r.notification.topic for r in recordings}
    assert {"engage.message.Observed", "engage.suppression.FactNoted",
            "engage.suppression.Changed"} <= topics  # fmt: skip
    app.observe(_reports())  # the same reports again: duplicates, no new fact, no change
    assert {r.notification.topic for r in saves[1]} == {"engage.message.DuplicateIgnored"}
    app.close()

    reopened = open_application(url)
    email = reopened.suppression(EMAIL)
    assert email.suppression is not None
    assert (email.suppression.rule, email.suppression.reason) == (
        FactKind.SOFT_BOUNCE, "3 soft bounces within 7 days")  # fmt: skip
    assert len(email.facts) == 4
    phone = reopened.suppression(PHONE).suppression
    assert phone is not None
    assert phone.reason == "2 carrier errors (30003, 30005) within 30 days"
    assert reopened.can_send(PHONE, transactional=True).reason == phone.describe()
    assert reopened.subscription(EMAIL).suppression == email.suppression
    assert reopened.subscription(EMAIL, as_of=T0).suppression is None  # recorded since
    reopened.close()


def test_rederive_on_the_file_store_records_corrections_once(tmp_path: Path) -> None:
    app = open_application(f"sqlite:///{tmp_path / 'engage.db'}")
    app.observe(_reports())
    stricter = SuppressionPolicy(version=2, soft_bounce_limit=4, spam_report_suppresses=False,
                                 carrier_window=timedelta(hours=12))  # fmt: skip
    summary = app.rederive_suppressions(stricter)
    assert (summary.revisited, summary.changed, summary.released) == (2, 2, 2)
    assert app.suppression(EMAIL).suppression is None
    assert app.suppression(EMAIL).policy == "policy@v2"
    assert app.rederive_suppressions(stricter).changed == 0
    back = app.rederive_suppressions(SuppressionPolicy(version=3))
    assert (back.changed, back.suppressed) == (2, 2)
    history = app.suppression(EMAIL).changes
    assert [(c.cause.value, c.policy) for c in history] == [
        ("fact", "policy@v1"), ("rederive", "policy@v2"), ("rederive", "policy@v3")]  # fmt: skip
    app.close()


def test_views_rebuild_over_suppression_events_and_publish_none(tmp_path: Path) -> None:
    app = open_application(f"sqlite:///{tmp_path / 'engage.db'}")
    app.observe(_reports())
    app.lift_suppression(EMAIL, reason="mailbox fixed", operator="ops")
    views = views_of(app)
    try:
        chosen = list(views.by_name.values())
        assert rebuild(app, chosen) == app.recorder.max_notification_id()
        published = events_page(views.outbox, 0, 1000)
        names = {entry["event"] for entry in published}
        assert names == {"Email Bounced", "Email Marked as Spam", "SMS Undelivered",
                         "Channel Subscription Updated"}  # fmt: skip
    finally:
        views.close()
        app.close()
