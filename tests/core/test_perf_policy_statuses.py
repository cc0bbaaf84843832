"""The application asks the consent policies only about reports whose status one of them can act
on (`application.may_change_consent`): for every other report of every channel, whatever facts
it carries and whatever send it belongs to, the policies answer nothing, so skipping them
changes no decision."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from engage_core.application import may_change_consent
from engage_core.channels import Channel
from engage_core.consent.policies import PolicySettings, policy_changes
from engage_core.lifecycles import LIFECYCLES
from engage_core.message.decide import decide_observation
from engage_core.message.events import Observed
from engage_core.observations import Observation, ProviderFacts, Send

_AT = datetime(2026, 1, 1, tzinfo=UTC)
_CONTACTS = {
    Channel.EMAIL: ("ana@example.com", "not an address"),
    Channel.SMS: ("+12125550101", "2125550101", "nobody"),
    Channel.WHATSAPP: ("+447700900123", "whatsapp:+12125550101", "nobody"),
}
_WORDS = ("STOP", "start", "HELP", "unstop", "hello", "cancel", "")


@st.composite
def _reports(draw: st.DrawFn) -> tuple[Observed, Send | None]:
    channel = draw(st.sampled_from(list(Channel)))
    table = LIFECYCLES[channel]
    status = draw(st.sampled_from([*table.statuses, *sorted(table.engagement_names)]))
    contact = draw(st.none() | st.sampled_from(_CONTACTS[channel]))
    facts = ProviderFacts(
        contact=contact,
        text=draw(st.none() | st.sampled_from(_WORDS)),
        opt_out=draw(st.none() | st.sampled_from(_WORDS)),
        group=draw(st.none() | st.sampled_from(("news", " 10 ", ""))),
    )
    observation = Observation(
        channel=channel,
        provider="prov",
        provider_message_id="M1",
        status=status,
        occurred_at=_AT,
        event_id=draw(st.none() | st.just("e1")),
        provider_keys=("k1",),
        facts=facts,
    )
    event = decide_observation(None, observation, recorded_at=_AT)
    assert isinstance(event, Observed)
    to = draw(st.none() | st.sampled_from(_CONTACTS[channel]))
    send = Send(channel, "prov", "M1", to=to, user_id="u1") if draw(st.booleans()) else None
    return event, send


@given(_reports(), st.booleans())
def test_policies_answer_nothing_for_the_statuses_skipped(
    report: tuple[Observed, Send | None], spam_unsubscribes: bool
) -> None:
    event, send = report
    settings = PolicySettings(spam_report_unsubscribes=spam_unsubscribes)
    if not may_change_consent(event):
        assert policy_changes(event, send, settings) == []


def test_every_status_a_policy_acts_on_is_asked_about() -> None:
    """The other direction, so the filter is no wider than it needs to be either: each status
    it lets through has a report a policy answers."""
    acted = set()
    for channel, contact, status, facts in [
        (Channel.EMAIL, "ana@example.com", "unsubscribe", {}),
        (Channel.EMAIL, "ana@example.com", "spamreport", {}),
        (Channel.EMAIL, "ana@example.com", "group_unsubscribe", {"group": "news"}),
        (Channel.EMAIL, "ana@example.com", "group_resubscribe", {"group": "news"}),
        (Channel.SMS, "+12125550101", "received", {"text": "STOP"}),
        (Channel.WHATSAPP, "+12125550101", "receiving", {"text": "STOP"}),
    ]:
        observation = Observation(
            channel=channel, provider="prov", provider_message_id="M1", status=status,
            occurred_at=_AT, event_id="e1",
            facts=ProviderFacts(contact=contact, **facts),
        )  # fmt: skip
        event = decide_observation(None, observation, recorded_at=_AT)
        assert isinstance(event, Observed)
        assert may_change_consent(event)
        if policy_changes(event, None):
            acted.add((channel, status))
    assert len(acted) == 6
