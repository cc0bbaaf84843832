"""The URL Twilio signed, rebuilt behind a proxy: `public_url` wins; X-Forwarded-Proto/Host
are believed only from the peers `forwarded_allow_ips` names; settings are checked at start."""

from __future__ import annotations

import pytest

from adapters.web import WebSettings
from engage_core import Channel
from tests.web.conftest import Serve
from tests.web.signing import ENVIRON, twilio, twilio_params

PATH = "/webhooks/twilio"
PUBLIC = "https://engage.example.com"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "engage.example.com"}


def test_the_public_url_is_the_one_signed(serve: Serve) -> None:
    with serve(public_url=PUBLIC + "/") as service:
        answer = service.post(PATH + "?m=1", twilio(PUBLIC + PATH + "?m=1", twilio_params("SM1")))
        assert answer.status_code == 200, answer.text
        local = service.post(PATH, twilio(service.url + PATH, twilio_params("SM2")))
        assert local.status_code == 401
        assert PUBLIC + PATH in local.json()["reason"]  # the URL it checked
        assert service.status(Channel.SMS, "SM2") is None


def test_a_public_url_with_a_prefix(serve: Serve) -> None:
    """A proxy publishing the service under /engage and stripping the prefix on the way."""
    with serve(public_url=PUBLIC + "/engage") as service:
        signed = twilio(PUBLIC + "/engage" + PATH, twilio_params("SM3"))
        assert service.post(PATH, signed).status_code == 200


def test_forwarded_headers_from_an_allowed_peer_are_honoured(serve: Serve) -> None:
    with serve(forwarded_allow_ips=("127.0.0.1",)) as service:
        body, headers = twilio(PUBLIC + PATH, twilio_params("SM4"))
        answer = service.post(PATH, (body, {**headers, **FORWARDED}))
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("allowed", [(), ("10.0.0.0/8", "::1")])
def test_forwarded_headers_from_any_other_peer_are_ignored(
    serve: Serve, allowed: tuple[str, ...]
) -> None:
    with serve(forwarded_allow_ips=allowed) as service:
        body, headers = twilio(PUBLIC + PATH, twilio_params("SM5"))
        answer = service.post(PATH, (body, {**headers, **FORWARDED}))
        assert answer.status_code == 401
        assert service.url + PATH in answer.json()["reason"]
        assert service.status(Channel.SMS, "SM5") is None


def test_settings_come_from_the_environment() -> None:
    settings = WebSettings.from_environment({
        **ENVIRON, "ENGAGE_PUBLIC_URL": PUBLIC,
        "ENGAGE_FORWARDED_ALLOW_IPS": "10.0.0.1, 10.1.0.0/16", "ENGAGE_WEB_THREADS": "4",
        "ENGAGE_MAX_PROVIDER_BODY_BYTES": "2048", "ENGAGE_STORE": "memory://",
    })  # fmt: skip
    assert settings.public_url == PUBLIC
    assert settings.forwarded_allow_ips == ("10.0.0.1", "10.1.0.0/16")
    assert (settings.threads, settings.limits.provider_body_bytes) == (4, 2048)
    assert settings.trusts("10.1.2.3")
    assert not settings.trusts("10.2.0.1")
    assert not settings.trusts(None)
    assert WebSettings(forwarded_allow_ips="*").trusts("203.0.113.9")
    assert ENVIRON["ENGAGE_TWILIO_AUTH_TOKEN"].split(",")[0] not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ENGAGE_PUBLIC_URL", "engage.example.com"),
        ("ENGAGE_PUBLIC_URL", "https://engage.example.com/?a=1"),
        ("ENGAGE_PUBLIC_URL", "https://user:pw@engage.example.com"),
        ("ENGAGE_FORWARDED_ALLOW_IPS", "10.0.0.1,proxy"),
        ("ENGAGE_WEB_THREADS", "0"),
        ("ENGAGE_WEB_THREADS", "many"),
        ("ENGAGE_SENDGRID_PUBLIC_KEY", "not-a-key"),
    ],
)
def test_a_bad_setting_stops_the_service_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable):
        WebSettings.from_environment({**ENVIRON, variable: value})
