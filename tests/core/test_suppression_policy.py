"""Suppression policies as pure functions: which reports are facts (`suppression_fact`), what a
policy derives from a set of facts and lifts (`derive`, order independent), the environment
settings, and the events stored and read back under their own topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views.records import decode
from engage_core import Observation, Send
from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.message.decide import decide_observation
from engage_core.message.events import Observed
from engage_core.serialisation import EVENT_CLASSES, CattrsMapper, OrjsonTranscoder
from engage_core.suppression import (
    SUPPRESSION_EVENT_CLASSES,
    Cause,
    FactKind,
    Lift,
    Suppression,
    SuppressionChanged,
    SuppressionFact,
    SuppressionFactNoted,
    SuppressionLifted,
    SuppressionPolicy,
    derive,
    policy_from_environment,
    suppression_fact,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
POLICY = SuppressionPolicy()


def report(channel: str, status: str, **facts: Any) -> Observed:
    observation = Observation.create(
        channel, "sendgrid" if channel == "email" else "twilio", f"pm-{uuid4()}", status,
        occurred_at=T0, event_id=f"ev-{uuid4()}", facts=facts,
    )  # fmt: skip
    event = decide_observation(None, observation, recorded_at=T0 + timedelta(minutes=1))
    assert isinstance(event, Observed)
    return event


def fact(kind: FactKind, hours: float, code: str | None = None, n: int = 0) -> SuppressionFact:
    return SuppressionFact(kind, T0 + timedelta(hours=hours), UUID(int=n), f"e{n}", code)


@pytest.mark.parametrize(("channel", "status", "facts", "expected"), [
    ("email", "bounce", {"bounce_type": "bounce"}, (FactKind.HARD_BOUNCE, None)),
    ("email", "bounce", {}, (FactKind.HARD_BOUNCE, None)),
    ("email", "bounce", {"bounce_type": "Blocked"}, (FactKind.SOFT_BOUNCE, None)),
    ("email", "dropped", {"reason": "Bounced Address"}, (FactKind.DROPPED, "Bounced Address")),
    ("email", "spamreport", {}, (FactKind.SPAM_REPORT, None)),
    ("email", "deferred", {"reason": "try later"}, None),
    ("email", "delivered", {}, None),
    ("sms", "undelivered", {"error_code": "30003"}, (FactKind.CARRIER_ERROR, "30003")),
    ("whatsapp", "failed", {"error_code": "63016"}, (FactKind.CARRIER_ERROR, "63016")),
    ("sms", "failed", {}, None),
    ("sms", "delivered", {"error_code": "30003"}, None),
])  # fmt: skip
def test_which_reports_are_facts(
    channel: str, status: str, facts: dict[str, str], expected: tuple[FactKind, str | None] | None
) -> None:
    contact = "A@Example.com" if channel == "email" else "+12135550123"
    if channel == "whatsapp":
        contact = "whatsapp:" + contact
    event = report(channel, status, contact=contact, **facts)
    found = suppression_fact(event, None)
    if expected is None:
        assert found is None
        return
    assert found is not None
    key, made = found
    assert key == ContactKey.parse(channel.upper(), contact)
    assert (made.kind, made.code) == expected
    assert (made.occurred_at, made.message_id, made.event_id) == (
        T0, event.originator_id, event.event_id)  # fmt: skip


def test_the_contact_comes_from_the_send_when_the_report_names_none() -> None:
    event = report("email", "bounce", bounce_type="bounce")
    send = Send.create("email", "sendgrid", event.provider_message_id, to="b@example.com")
    assert suppression_fact(event, None) is None
    found = suppression_fact(event, send)
    assert found is not None
    assert found[0] == ContactKey(Channel.EMAIL, "b@example.com")
    assert suppression_fact(report("email", "bounce", contact="not an address"), None) is None


@pytest.mark.parametrize(("facts", "rule", "reason"), [
    ([fact(FactKind.HARD_BOUNCE, 1)], FactKind.HARD_BOUNCE, "hard bounce"),
    ([fact(FactKind.DROPPED, 1, "Bounced Address")], FactKind.DROPPED, "dropped: Bounced Address"),
    ([fact(FactKind.DROPPED, 1, " INVALID ")], FactKind.DROPPED, "dropped:  INVALID "),
    ([fact(FactKind.SPAM_REPORT, 1)], FactKind.SPAM_REPORT, "spam report"),
    ([fact(FactKind.SOFT_BOUNCE, h, n=h) for h in (0, 50, 168)], FactKind.SOFT_BOUNCE,
     "3 soft bounces within 7 days"),
    ([fact(FactKind.CARRIER_ERROR, 0, "30003", 1), fact(FactKind.CARRIER_ERROR, 9, "30006", 2)],
     FactKind.CARRIER_ERROR, "2 carrier errors (30003, 30006) within 30 days"),
])  # fmt: skip
def test_each_rule_suppresses(facts: list[SuppressionFact], rule: FactKind, reason: str) -> None:
    found = derive(POLICY, facts)
    assert found is not None
    assert (found.rule, found.reason, found.policy) == (rule, reason, "policy@v1")
    assert found.since == max(f.occurred_at for f in facts)
    assert found.evidence == tuple(f.event_id for f in sorted(facts, key=lambda f: f.order))
    assert found.describe().startswith(f"suppressed by policy@v1: {reason} (since ")


@pytest.mark.parametrize("facts", [
    [fact(FactKind.DROPPED, 1, reason) for reason in
     ("Unsubscribed Address", "Spam Reporting Address", "Spam Content", "Invalid SMTPAPI header")],
    [fact(FactKind.DROPPED, 1, None)],
    [fact(FactKind.SOFT_BOUNCE, h, n=h) for h in (0, 50)],
    [fact(FactKind.SOFT_BOUNCE, h, n=h) for h in (0, 50, 169)],  # the first and last: 7 days + 1 h
    [fact(FactKind.CARRIER_ERROR, 0, "30003")],
    [fact(FactKind.CARRIER_ERROR, h, "30007", h) for h in (0, 1, 2)],  # not a permanent code
    [fact(FactKind.CARRIER_ERROR, h, "30003", h) for h in (0, 24 * 31)],
])  # fmt: skip
def test_what_does_not_suppress(facts: list[SuppressionFact]) -> None:
    assert derive(POLICY, facts) is None


def test_settings_change_the_rules_and_the_tag() -> None:
    spam = [fact(FactKind.SPAM_REPORT, 1)]
    assert derive(SuppressionPolicy(version=4, spam_report_suppresses=False), spam) is None
    single = SuppressionPolicy(version=2, soft_bounce_limit=1, carrier_repeats=1,
                               carrier_codes={"30007"})  # fmt: skip
    soft = derive(single, [fact(FactKind.SOFT_BOUNCE, 1)])
    assert soft is not None
    assert (soft.reason, soft.policy) == ("a soft bounce", "policy@v2")
    carrier = derive(single, [fact(FactKind.CARRIER_ERROR, 1, "30007")])
    assert carrier is not None
    assert carrier.reason == "carrier error 30007"
    assert derive(single, [fact(FactKind.CARRIER_ERROR, 1, "30003")]) is None


def test_the_rule_that_held_first_names_the_suppression_and_lifts_set_facts_aside() -> None:
    facts = [fact(FactKind.SPAM_REPORT, 2, n=1), fact(FactKind.HARD_BOUNCE, 5, n=2)]
    first = derive(POLICY, facts)
    assert first is not None
    assert first.rule is FactKind.SPAM_REPORT
    lifted = [Lift(T0 + timedelta(hours=3), "ann", "checked")]
    after = derive(POLICY, facts, lifted)
    assert after is not None
    assert after.rule is FactKind.HARD_BOUNCE
    assert derive(POLICY, facts, [*lifted, Lift(T0 + timedelta(hours=5), "bo", "again")]) is None


_FACTS = st.lists(
    st.builds(
        fact, st.sampled_from(FactKind), st.integers(0, 24 * 40),
        st.sampled_from([None, "30003", "30005", "30007", "Bounced Address", "Invalid"]),
        st.integers(0, 30),
    ),
    max_size=12,
)  # fmt: skip
_LIFTS = st.lists(st.builds(Lift, st.builds(lambda h: T0 + timedelta(hours=h),
                                            st.integers(0, 24 * 40)),
                            st.just("op"), st.just("why")), max_size=2)  # fmt: skip


@settings(max_examples=60)
@given(facts=_FACTS, lifts=_LIFTS, order=st.randoms(use_true_random=False))
def test_derive_depends_on_the_sets_only(facts: list[Any], lifts: list[Lift], order: Any) -> None:
    shuffled = [*facts, *facts[:2]]  # a fact given twice is one fact
    order.shuffle(shuffled)
    assert derive(POLICY, shuffled, reversed(lifts)) == derive(POLICY, facts, lifts)


def test_facts_under_one_identity_that_differ_are_chosen_whatever_came_first() -> None:
    """Found by the property above: two facts of one report (message, event, kind) at one
    time but under two codes were kept in arrival order, so one order suppressed and the
    other did not. Every field now takes part in the facts' order."""
    other = fact(FactKind.CARRIER_ERROR, 0, "30003", 0)
    same_report = [fact(FactKind.CARRIER_ERROR, 0, "30003", 1),
                   fact(FactKind.CARRIER_ERROR, 0, "30007", 1)]  # fmt: skip
    answers = {derive(POLICY, [other, *same_report]),
               derive(POLICY, [other, *reversed(same_report)])}  # fmt: skip
    assert len(answers) == 1


def test_the_environment_sets_the_policy() -> None:
    policy = policy_from_environment({
        "ENGAGE_SUPPRESSION_POLICY_VERSION": "3", "ENGAGE_SOFT_BOUNCE_LIMIT": "5",
        "ENGAGE_SOFT_BOUNCE_WINDOW_SECONDS": "86400", "ENGAGE_CARRIER_ERROR_CODES": "30003, 30008",
        "ENGAGE_CARRIER_ERROR_REPEATS": "1", "ENGAGE_CARRIER_ERROR_WINDOW_SECONDS": "60",
        "ENGAGE_SPAM_REPORT_SUPPRESSES": "False", "ENGAGE_UNRELATED": "x",
    })  # fmt: skip
    assert policy == SuppressionPolicy(
        version=3, soft_bounce_limit=5, soft_bounce_window=timedelta(days=1),
        carrier_codes={"30003", "30008"}, carrier_repeats=1,
        carrier_window=timedelta(minutes=1), spam_report_suppresses=False,
    )  # fmt: skip
    assert policy_from_environment({"ENGAGE_SOFT_BOUNCE_LIMIT": " "}) == SuppressionPolicy()


@pytest.mark.parametrize(("variable", "value"), [
    ("ENGAGE_SUPPRESSION_POLICY_VERSION", "0"), ("ENGAGE_SOFT_BOUNCE_LIMIT", "two"),
    ("ENGAGE_SOFT_BOUNCE_WINDOW_SECONDS", "-5"), ("ENGAGE_CARRIER_ERROR_CODES", ",,"),
    ("ENGAGE_CARRIER_ERROR_REPEATS", "1.5"), ("ENGAGE_CARRIER_ERROR_WINDOW_SECONDS", "nan"),
    ("ENGAGE_SPAM_REPORT_SUPPRESSES", "maybe"),
])  # fmt: skip
def test_a_bad_setting_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable):
        policy_from_environment({variable: value})


def _events() -> list[Any]:
    common: dict[str, Any] = {"originator_id": uuid4(), "recorded_at": T0,
                              "channel": Channel.SMS, "key": "+12135550123"}  # fmt: skip
    held = Suppression(FactKind.CARRIER_ERROR, "2 carrier errors", T0, "policy@v1", ("a", "b"))
    return [
        SuppressionFactNoted(
            originator_version=1, fact=fact(FactKind.CARRIER_ERROR, 1, "30003"), **common
        ),
        SuppressionChanged(
            originator_version=2, before=None, after=held, policy="policy@v1",
            cause=Cause.FACT, cause_id="e0", **common,
        ),
        SuppressionLifted(originator_version=3, lift=Lift(T0, "ann", "ok"), **common),
    ]


def test_events_round_trip_under_their_own_topics_and_the_views_read_them() -> None:
    mapper = CattrsMapper(transcoder=OrjsonTranscoder())
    assert {cls.TOPIC for cls in SUPPRESSION_EVENT_CLASSES} == {
        "engage.suppression.FactNoted", "engage.suppression.Changed",
        "engage.suppression.Lifted"}  # fmt: skip
    for event in _events():
        assert EVENT_CLASSES[type(event).TOPIC] is type(event)
        stored = mapper.to_stored_event(event)
        assert "originator_id" not in orjson.loads(stored.state)
        assert mapper.to_domain_event(stored) == event
        record = decode(stored.topic, event.originator_id.hex, event.originator_version,
                        stored.state)  # fmt: skip
        assert record.event() == event
