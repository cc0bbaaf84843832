"""The suppression properties the issue asks for, through the real application:

- suppression never lets `can_send` allow a suppressed contact, marketing or transactional,
  whatever its consent and whatever the order the facts (and lifts) arrive in; the answer at
  the end is the policy's over the set of facts and lifts, the same for every order;
- re-deriving under a new policy version after the facts were recorded under v1 leaves every
  contact as a fresh store fed the same facts under v2 holds it, and doing it again records
  nothing.

Reports are provider observations as adapters make them (SendGrid bounces, drops and spam
reports; Twilio failures with error codes), on an in-memory store (the SQLite file store is
`test_suppression_sqlite.py`'s), a handful of contacts so that facts pile up on each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import event, given, settings
from hypothesis import strategies as st

from adapters.stores import open_application
from engage_core import EngageApplication, Observation
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.suppression import Suppression, SuppressionPolicy

__all__ = ["CONTACTS", "Input", "inputs", "observation", "run"]

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CONTACTS = (
    ContactKey.parse("EMAIL", "one@example.com"),
    ContactKey.parse("EMAIL", "two@example.com"),
    ContactKey.parse("SMS", "+12135550101"),
    ContactKey.parse("WHATSAPP", "+12135550101"),
)
_EMAIL_REPORTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("bounce", {"bounce_type": "bounce"}), ("bounce", {"bounce_type": "blocked"}),
    ("dropped", {"reason": "Bounced Address"}), ("dropped", {"reason": "Unsubscribed Address"}),
    ("spamreport", {}), ("deferred", {}), ("delivered", {}),
)  # fmt: skip
_PHONE_REPORTS = tuple(
    (status, {"error_code": code})
    for status in ("failed", "undelivered")
    for code in ("30003", "30005", "30006", "30007")
)


@attrs.frozen
class Input:
    """One report (`report` = n: the n-th drawn report) or an operator's lift, at `hours`."""

    contact: int
    hours: int
    report: int | None  # index into the contact's channel's reports; None: a lift


def observation(item: Input, n: int) -> Observation:
    contact = CONTACTS[item.contact]
    reports = _EMAIL_REPORTS if contact.channel.value == "email" else _PHONE_REPORTS
    status, facts = reports[(item.report or 0) % len(reports)]
    provider = "sendgrid" if contact.channel.value == "email" else "twilio"
    return Observation.create(
        contact.channel, provider, f"m-{n}", status, occurred_at=T0 + timedelta(hours=item.hours),
        event_id=f"ev-{n}", facts={"contact": contact.key, **facts},
    )  # fmt: skip


# Mostly reports (a lift one time in eight), within a few days: facts pile up in the windows.
inputs = st.lists(
    st.builds(
        Input, st.integers(0, len(CONTACTS) - 1), st.integers(0, 24 * 4),
        st.integers(-3, 20).map(lambda n: None if n < 0 else n),
    ),
    min_size=3,
    max_size=14,
)  # fmt: skip


def run(app: EngageApplication, drawn: Sequence[Input], order: Sequence[int]) -> None:
    """Feed the drawn inputs in `order` (each report keeps its number, so its ids)."""
    for n in order:
        item = drawn[n]
        if item.report is None:
            at = T0 + timedelta(hours=item.hours)
            app.lift_suppression(CONTACTS[item.contact], reason="checked", operator="op", at=at)
        else:
            app.observe([observation(item, n)])


def _subscribe_all(app: EngageApplication) -> None:
    """Every contact SUBSCRIBED, so consent alone would allow any send."""
    provenance = Provenance(SourceKind.API, "subscribe-all", T0 - timedelta(days=1), T0)
    update = Update(SubscriptionStatus.SUBSCRIBED, provenance)
    app.set_channel_subscriptions((contact, update) for contact in CONTACTS)


def _answers(app: EngageApplication) -> list[Suppression | None]:
    return [app.suppression(contact).suppression for contact in CONTACTS]


def _refuses_every_suppressed(app: EngageApplication) -> None:
    """A suppressed contact is refused with the suppression's reason, for either kind of
    send; any other is answered by consent alone (a spam report also unsubscribes)."""
    for contact, held in zip(CONTACTS, _answers(app), strict=True):
        for transactional in (False, True):
            permission = app.can_send(contact, transactional=transactional)
            if held is not None:
                assert not permission.allowed
                assert permission.reason == held.describe()
                assert permission.reason.startswith(f"suppressed by {held.policy}: ")
            else:
                assert not permission.reason.startswith("suppressed"), permission.reason


@settings(max_examples=40)
@given(drawn=inputs, data=st.data())
def test_can_send_never_allows_a_suppressed_contact_whatever_the_order(
    drawn: list[Input], data: Any
) -> None:
    order = data.draw(st.permutations(range(len(drawn))))
    answers = []
    for sequence in (range(len(drawn)), order):
        app = open_application("memory://")
        _subscribe_all(app)
        for step in range(len(sequence)):  # after every input, not only at the end
            run(app, drawn, sequence[step : step + 1])
            _refuses_every_suppressed(app)
        answers.append(_answers(app))
        event(f"suppressed {sum(a is not None for a in answers[-1])}")
        app.close()
    assert answers[0] == answers[1]


_POLICIES = st.builds(
    SuppressionPolicy,
    version=st.just(2),
    soft_bounce_limit=st.integers(1, 3),
    soft_bounce_window=st.sampled_from([timedelta(hours=6), timedelta(days=3)]),
    carrier_codes=st.sets(st.sampled_from(["30003", "30005", "30006", "30007"]), min_size=1),
    carrier_repeats=st.integers(1, 3),
    carrier_window=st.sampled_from([timedelta(days=1), timedelta(days=30)]),
    spam_report_suppresses=st.booleans(),
    dropped_reasons=st.sampled_from([{"bounced address"}, {"bounced address", "invalid",
                                                           "unsubscribed address"}]),
)  # fmt: skip


@settings(max_examples=40)
@given(drawn=inputs, v2=_POLICIES)
def test_rederive_under_a_new_version_equals_a_fresh_run_under_it(
    drawn: list[Input], v2: SuppressionPolicy
) -> None:
    everything = range(len(drawn))
    recorded = open_application("memory://")
    run(recorded, drawn, everything)
    summary = recorded.rederive_suppressions(v2)
    fresh = open_application("memory://")
    fresh.suppression_policy = v2
    run(fresh, drawn, everything)
    assert _answers(recorded) == _answers(fresh)
    assert summary.changed == summary.suppressed + summary.released + summary.restated
    kept = [recorded.suppression(contact) for contact in CONTACTS]
    assert summary.revisited == sum(1 for answer in kept if answer.facts or answer.lifts)
    stored = recorded.recorder.max_notification_id()
    again = recorded.rederive_suppressions(v2)
    assert (again.changed, recorded.recorder.max_notification_id()) == (0, stored)
    event(f"rederive changed {summary.changed}")
    recorded.suppression_policy = v2
    _refuses_every_suppressed(recorded)
    recorded.close()
    fresh.close()
