"""Each adapter types what the core reads of its documented payloads (`ProviderFacts`), so the
core never reads a provider's field names out of `details`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.providers.base import InboundRequest
from adapters.providers.meta import MetaAdapter
from adapters.providers.sendgrid import SendGridAdapter
from adapters.providers.twilio import TwilioAdapter
from engage_core import Observation
from engage_core.observations import ProviderFacts

PAYLOADS = Path(__file__).parent / "payloads"
AT = datetime(2026, 3, 1, tzinfo=UTC)


def _observations(provider: str, name: str) -> list[Observation]:
    path = PAYLOADS / provider / f"{name}.json"
    if provider == "twilio":
        body = json.loads(path.read_text())["body"].encode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        parsed = TwilioAdapter(None).parse(
            InboundRequest(body=body, headers=form, url="https://e.example/t", received_at=AT)
        )
    else:
        adapter = SendGridAdapter(None) if provider == "sendgrid" else MetaAdapter(None)
        headers = {"Content-Type": "application/json"}
        parsed = adapter.parse(InboundRequest(body=path.read_bytes(), headers=headers))
    assert parsed.quarantined == ()
    return [item for item in parsed.inputs if isinstance(item, Observation)]


SENDGRID = "example@test.com"
FACTS = [
    ("twilio", "sms-inbound-stop", ProviderFacts(contact="+12135618345", text="STOP")),
    ("twilio", "sms-undelivered", ProviderFacts(contact="+15622089096", error_code="30003")),
    ("twilio", "sms-delivered", None),
    ("sendgrid", "group_unsubscribe", ProviderFacts(contact=SENDGRID, group="10")),
    ("sendgrid", "group_resubscribe", ProviderFacts(contact=SENDGRID, group="10")),
    ("sendgrid", "click", ProviderFacts(contact=SENDGRID, link_url="http://www.sendgrid.com/")),
    ("sendgrid", "deferred", ProviderFacts(contact=SENDGRID, attempt="5")),
    ("sendgrid", "dropped", ProviderFacts(contact=SENDGRID, reason="Bounced Address")),
    ("sendgrid", "blocked", ProviderFacts(contact=SENDGRID, reason="500 unknown recipient",
                                          bounce_type="blocked")),
    ("sendgrid", "unsubscribe", ProviderFacts(contact=SENDGRID)),
    ("meta", "status_failed", ProviderFacts(contact="+16505551234", error_code="131050")),
    ("meta", "message_text", None),
    ("meta", "message_button", None),
    ("meta", "message_interactive_list_reply", None),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "name", "expected"), FACTS)
def test_each_adapter_fills_the_facts_of_its_documented_payloads(
    provider: str, name: str, expected: ProviderFacts | None
) -> None:
    (observation,) = _observations(provider, name)
    assert observation.facts is not None  # an adapter always says, even "nothing"
    if expected is not None:
        assert observation.facts == expected


def test_a_twilio_status_names_its_recipient_and_an_inbound_message_its_sender() -> None:
    (delivered,) = _observations("twilio", "sms-delivered")
    assert delivered.facts is not None
    assert delivered.facts.contact == delivered.details["To"]
    assert delivered.facts.text is None
    (inbound,) = _observations("twilio", "whatsapp-inbound")
    assert inbound.facts is not None
    assert inbound.facts.contact == inbound.details["From"]
    assert (inbound.facts.contact or "").startswith("whatsapp:+")


def test_meta_types_typed_text_apart_from_a_tapped_choice_and_adds_the_plus() -> None:
    (text,) = _observations("meta", "message_text")
    assert text.facts is not None
    assert text.facts.contact == "+" + text.details["from"]
    assert text.facts.text == text.details["text"]["body"]
    assert text.facts.choice is None
    for name in ("message_button", "message_interactive_button_reply"):
        (tapped,) = _observations("meta", name)
        assert tapped.facts is not None
        assert tapped.facts.text is None
        assert tapped.facts.choice == tapped.details["choice"]
        assert tapped.facts.choice


def test_twilio_passes_advanced_opt_out_and_a_tapped_button_as_facts() -> None:
    body = "MessageSid=SM1&SmsStatus=received&From=%2B12135618345&To=%2B15017122661&Body=Hi"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for extra, expected in (
        ("&OptOutType=STOP", ProviderFacts(contact="+12135618345", text="Hi", opt_out="STOP")),
        ("&ButtonText=Yes", ProviderFacts(contact="+12135618345", text="Hi", choice="Yes")),
    ):
        request = InboundRequest(body=(body + extra).encode(), headers=form, url="https://e/t")
        (observation,) = TwilioAdapter(None).parse(request).inputs
        assert isinstance(observation, Observation)
        assert observation.facts == expected
