"""Rotating a secret: one adapter per secret listed, any one verifying; one secret or none is
the plain adapter, as before."""

from __future__ import annotations

import pytest

from adapters.providers import InboundRequest, RotatingAdapter, SignatureRefused
from adapters.providers.meta import MetaAdapter
from adapters.providers.registry import rotating_adapter_for
from adapters.providers.rotation import secrets_of
from adapters.providers.twilio import TwilioAdapter
from tests.web.conftest import Serve
from tests.web.signing import OLD_TWILIO_TOKEN, TWILIO_TOKEN, twilio, twilio_params

URL = "https://engage.example.com/webhooks/twilio"


def request(token: str) -> InboundRequest:
    body, headers = twilio(URL, twilio_params("SM1"), token)
    return InboundRequest(body, headers, url=URL)


def test_secrets_are_comma_separated_and_stripped() -> None:
    assert secrets_of(" a, b ,,c ") == ("a", "b", "c")
    assert secrets_of("") == secrets_of(None) == ()


def test_either_secret_verifies_and_the_first_parses() -> None:
    adapter = rotating_adapter_for(
        "twilio", {"ENGAGE_TWILIO_AUTH_TOKEN": f"{TWILIO_TOKEN}, {OLD_TWILIO_TOKEN}"}
    )
    assert isinstance(adapter, RotatingAdapter)
    assert adapter.name == "twilio"
    adapter.verify(request(TWILIO_TOKEN))
    adapter.verify(request(OLD_TWILIO_TOKEN))
    with pytest.raises(SignatureRefused, match="tried each of the 2 secrets"):
        adapter.verify(request("0" * 32))
    assert adapter.parse(request(TWILIO_TOKEN)).received == 1
    assert TWILIO_TOKEN not in repr(adapter)


@pytest.mark.parametrize("value", [None, "", TWILIO_TOKEN, f" {TWILIO_TOKEN} ,"])
def test_one_secret_or_none_is_the_plain_adapter(value: str | None) -> None:
    environ = {} if value is None else {"ENGAGE_TWILIO_AUTH_TOKEN": value}
    adapter = rotating_adapter_for("twilio", environ)
    assert isinstance(adapter, TwilioAdapter)
    if value:
        adapter.verify(request(TWILIO_TOKEN))
    else:
        with pytest.raises(SignatureRefused, match="ENGAGE_TWILIO_AUTH_TOKEN"):
            adapter.verify(request(TWILIO_TOKEN))


def test_a_rotating_adapter_is_one_providers() -> None:
    with pytest.raises(ValueError, match="one provider"):
        RotatingAdapter([TwilioAdapter("a"), MetaAdapter("b")])
    with pytest.raises(ValueError, match="at least one"):
        RotatingAdapter([])
    with pytest.raises(ValueError, match="unknown provider"):
        rotating_adapter_for("mailgun", {})


def test_meta_handshakes_with_either_verify_token_over_http(serve: Serve) -> None:
    """ENGAGE_META_VERIFY_TOKEN is a list too: either token of a rotation is answered with the
    challenge, any other refused (403), none configured refuses all."""
    with serve(meta_verify_token="new-token, old-token") as service:
        for token, status in (("new-token", 200), ("old-token", 200), ("other", 403),
                              ("new-token, old-token", 403)):  # fmt: skip
            answer = service.client.get("/webhooks/meta", params={
                "hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
            assert answer.status_code == status, (token, answer.text)
            assert (answer.text == "1158201444") is (status == 200)
    with serve(meta_verify_token=None) as service:
        answer = service.client.get("/webhooks/meta", params={
            "hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
        assert answer.status_code == 403
        assert "ENGAGE_META_VERIFY_TOKEN" in answer.json()["reason"]
