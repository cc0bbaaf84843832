"""The simulator's signers agree with the providers' own libraries (Twilio's `RequestValidator`,
SendGrid's `EventWebhook`) and with Engage's adapters, for any parameters and bodies; its
request builders produce what the adapters accept and map to the intended reports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from sendgrid.helpers.eventwebhook import EventWebhook  # type: ignore[import-untyped]
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from adapters.providers.base import InboundRequest
from adapters.providers.meta import MetaAdapter
from adapters.providers.registry import adapter_for
from adapters.providers.sendgrid import SendGridAdapter
from adapters.providers.twilio import TwilioAdapter
from engage_core import Channel, Observation, ProviderFacts
from engage_core.simulation.requests import (
    ProviderRequest,
    meta_notification,
    meta_status,
    meta_text_message,
    sendgrid_batch,
    sendgrid_event,
    twilio_callback,
    twilio_inbound_params,
    twilio_status_params,
)
from engage_core.simulation.signing import (
    TestKeys,
    sign_meta,
    sign_sendgrid,
    sign_twilio,
    test_keys,
)

KEYS = test_keys(7)
URL = "https://engage.example.com/webhooks/twilio?engage_message_id=m1"
AT = 1_767_225_600  # 2026-01-01T00:00:00Z
text = st.text(st.characters(codec="utf-8"), max_size=30)


def inbound(request: ProviderRequest, at: int = AT) -> InboundRequest:
    return InboundRequest(request.body, request.headers, url=request.url,
                          received_at=datetime.fromtimestamp(at, UTC))  # fmt: skip


@given(st.dictionaries(text, text, max_size=6), text)
def test_twilio_signatures_are_twilios_own(params: dict[str, str], path: str) -> None:
    url = f"https://engage.example.com/{path}"
    expected = RequestValidator(KEYS.twilio_token).compute_signature(url, params)
    assert sign_twilio(url, params, KEYS.twilio_token) == expected


@given(st.binary(max_size=200), st.integers(0, 2**33))
def test_sendgrid_signatures_verify_with_sendgrids_helper(body: bytes, timestamp: int) -> None:
    body = body.decode("utf-8", "replace").encode()  # the helper takes the body as text
    signature = sign_sendgrid(body, KEYS.sendgrid_private_key, timestamp)
    helper = EventWebhook(KEYS.sendgrid_public_key)
    assert helper.verify_signature(body.decode(), signature, str(timestamp))
    assert not helper.verify_signature(body.decode() + " ", signature, str(timestamp))


def test_sendgrid_signatures_are_reproducible() -> None:
    first = sign_sendgrid(b"[]", test_keys(7).sendgrid_private_key, AT)
    assert first == sign_sendgrid(b"[]", KEYS.sendgrid_private_key, AT)


def test_sendgrid_signs_where_cryptography_cannot_sign_deterministically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A `cryptography` without `deterministic_signing` rejects the option with a TypeError:
    the signature is then a random one, and as valid."""
    modern = ec.ECDSA

    def without_the_option(algorithm: hashes.HashAlgorithm) -> ec.ECDSA:
        return modern(algorithm)

    monkeypatch.setattr(ec, "ECDSA", without_the_option)
    signature = sign_sendgrid(b"[]", KEYS.sendgrid_private_key, AT)
    monkeypatch.undo()
    assert EventWebhook(KEYS.sendgrid_public_key).verify_signature("[]", signature, str(AT))


@given(st.binary(max_size=200))
def test_meta_signatures_verify_with_the_adapter(body: bytes) -> None:
    request = InboundRequest(body, {"X-Hub-Signature-256": sign_meta(body, KEYS.meta_app_secret)})
    MetaAdapter(KEYS.meta_app_secret).verify(request)


def test_the_same_seed_gives_the_same_keys_and_others_differ() -> None:
    assert test_keys(7).environ() == KEYS.environ()
    assert test_keys(8).environ()["ENGAGE_TWILIO_AUTH_TOKEN"] != KEYS.twilio_token
    assert test_keys(8).sendgrid_public_key != KEYS.sendgrid_public_key


def test_the_keys_show_no_secret() -> None:
    shown = repr(KEYS)
    assert KEYS.twilio_token not in shown
    assert KEYS.meta_app_secret not in shown
    assert isinstance(KEYS, TestKeys)


def facts(observation: Observation) -> ProviderFacts:
    assert observation.facts is not None
    return observation.facts


def _observations(request: ProviderRequest, at: int = AT) -> list[Observation]:
    adapter = adapter_for(request.provider, KEYS.environ())
    adapter.verify(inbound(request, at), now=datetime.fromtimestamp(at, UTC))
    parsed = adapter.parse(inbound(request, at))
    assert not parsed.quarantined
    return [item for item in parsed.inputs if isinstance(item, Observation)]


def test_twilio_requests_verify_and_map() -> None:
    params = twilio_status_params(sid="SM1", status="undelivered", to="+15552223333",
                                  sender="+15550001111", account_sid="AC1", error_code="30003",
                                  raw_dlr_done_date="2601011200")  # fmt: skip
    [sms] = _observations(twilio_callback(URL, params, KEYS.twilio_token, idempotency_token="i1"))
    assert (sms.channel, sms.status, facts(sms).error_code) == (Channel.SMS, "undelivered", "30003")
    assert sms.event_id == "i1"
    params = twilio_inbound_params(sid="SM2", sender="+15552223333", to="+15550001111",
                                   body="STOP", account_sid="AC1", whatsapp=True)  # fmt: skip
    [whatsapp] = _observations(twilio_callback(URL, params, KEYS.twilio_token))
    assert (whatsapp.channel, whatsapp.status) == (Channel.WHATSAPP, "received")
    assert (facts(whatsapp).contact, facts(whatsapp).text) == ("whatsapp:+15552223333", "STOP")
    assert isinstance(TwilioAdapter.from_environment(KEYS.environ()), TwilioAdapter)


def test_sendgrid_batches_verify_and_map() -> None:
    events = [
        sendgrid_event(event="click", email="a@example.com", timestamp=AT, sg_event_id="e1",
                       sg_message_id="abc.filter0001.1.2.0",
                       extra={"url": "https://example.com/x"}),
        sendgrid_event(event="group_unsubscribe", email="a@example.com", timestamp=AT,
                       sg_event_id=None, sg_message_id="abc.filter0001.1.2.0",
                       extra={"asm_group_id": 10}),
    ]  # fmt: skip
    request = sendgrid_batch("https://engage.example.com/webhooks/sendgrid", events,
                             KEYS.sendgrid_private_key, AT)  # fmt: skip
    click, leave = _observations(request)
    assert (click.provider_message_id, click.status, facts(click).link_url) == (
        "abc", "click", "https://example.com/x")  # fmt: skip
    assert (leave.status, facts(leave).group) == ("group_unsubscribe", "10")
    assert isinstance(SendGridAdapter.from_environment(KEYS.environ()), SendGridAdapter)
    helper = EventWebhook(KEYS.sendgrid_public_key)
    assert helper.verify_signature(request.body.decode(), request.header(
        "x-twilio-email-event-webhook-signature"), str(AT))  # fmt: skip


def test_meta_notifications_verify_and_map() -> None:
    request = meta_notification(
        "https://engage.example.com/webhooks/meta", KEYS.meta_app_secret,
        statuses=[meta_status(wamid="wamid.A", status="read", timestamp=AT,
                              recipient_id="+15552223333")],
        messages=[meta_text_message(wamid="wamid.B", sender="+15552223333", timestamp=AT,
                                    text="Grüße")],
    )  # fmt: skip
    assert request.body.isascii()  # escaped, as Meta signs it
    read, received = _observations(request)
    assert (read.provider_message_id, read.status) == ("wamid.A", "read")
    assert (received.status, facts(received).text, facts(received).contact) == (
        "received", "Grüße", "+15552223333")  # fmt: skip
