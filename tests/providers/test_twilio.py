"""Twilio adapter: signatures made and checked by Twilio's own `RequestValidator`, documented
callbacks mapped and applied end to end, and nothing but a refusal on bad input."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from adapters.providers.base import (
    BodyRefused,
    InboundRequest,
    Parsed,
    ProviderAdapter,
    SignatureRefused,
)
from adapters.providers.twilio import (
    AUTH_TOKEN_ENV_VAR,
    RAW_DLR_DONE_AT_KEY,
    STATUSES,
    URL_QUERY_KEY,
    TwilioAdapter,
    body_sha256,
    expected_signature,
    signed_url_variants,
)
from adapters.stores import open_application
from engage_core import LIFECYCLES, Channel, EngageApplication, Observation
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import SubscriptionStatus

TOKEN = "9f3c1b7e2d4a6058b1c3e5f7a9d2b4c6"  # the shape of an Auth Token; not a real one
URL = "https://engage.example.com/webhooks/twilio?engage_message_id=m-42"
FORM = "application/x-www-form-urlencoded"
RECEIVED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAYLOADS = Path(__file__).parent / "payloads" / "twilio"
ADAPTER = TwilioAdapter(TOKEN)


def ours_accept(req: InboundRequest) -> bool:
    """Whether our adapter verifies the request's signature."""
    try:
        ADAPTER.verify(req)
    except SignatureRefused:
        return False
    return True


def payload(name: str) -> dict[str, str]:
    """A fixture's parameters, decoded as any web framework decodes a form."""
    body = json.loads((PAYLOADS / f"{name}.json").read_text())["body"]
    return dict(parse_qsl(body, keep_blank_values=True))


def request(
    params: dict[str, str],
    *,
    url: str = URL,
    signed_url: str | None = None,
    token: str = TOKEN,
    headers: dict[str, str] | None = None,
) -> InboundRequest:
    """A form request as Twilio sends it, signed by Twilio's own library."""
    signature = RequestValidator(token).compute_signature(signed_url or url, params)
    return InboundRequest(
        body=urlencode(params).encode(),
        headers={"Content-Type": FORM, "X-Twilio-Signature": signature, **(headers or {})},
        url=url,
        received_at=RECEIVED_AT,
    )


def json_request(body: bytes, *, url: str = "https://engage.example.com/t") -> InboundRequest:
    """Twilio's JSON variant: the body's SHA-256 in the URL, the signature over the URL alone."""
    signed = f"{url}?bodySHA256={RequestValidator(TOKEN).compute_hash(body.decode())}"
    signature = RequestValidator(TOKEN).compute_signature(signed, {})
    return InboundRequest(
        body=body,
        headers={"Content-Type": "application/json", "X-Twilio-Signature": signature},
        url=signed,
        received_at=RECEIVED_AT,
    )


def only_input(parsed: Parsed) -> Observation:
    assert parsed.received == 1
    assert parsed.quarantined == ()
    (observation,) = parsed.inputs
    assert isinstance(observation, Observation)
    return observation


def refusal(adapter: TwilioAdapter, req: InboundRequest) -> str:
    with pytest.raises(SignatureRefused) as refused:
        adapter.verify(req)
    return refused.value.reason


def test_is_a_provider_adapter() -> None:
    adapter: ProviderAdapter = ADAPTER
    assert adapter.name == "twilio"


# Signatures


def test_the_worked_example_of_twilios_security_docs() -> None:
    # https://www.twilio.com/docs/usage/security, checked against twilio==9.13.0 (research §3.6)
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234",
              "From": "+14158675310", "To": "+18005551212"}  # fmt: skip
    url = "https://example.com/myapp.php?foo=1&bar=2"
    assert expected_signature("12345", url, params.items()) == "L/OH5YylLD5NRKLltdqwSvS0BnU="
    body = b'{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}'
    assert body_sha256(body) == "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"


def test_a_signed_callback_is_accepted() -> None:
    ADAPTER.verify(request(payload("sms-delivered")))


def test_one_changed_byte_of_the_body_is_refused() -> None:
    genuine = request(payload("sms-delivered"))
    tampered = genuine.body.replace(b"MessageStatus=delivered", b"MessageStatus=delivereD")
    assert tampered != genuine.body
    reason = refusal(ADAPTER, InboundRequest(tampered, genuine.headers, genuine.url))
    assert "does not match" in reason


def test_an_added_parameter_is_refused() -> None:
    genuine = request(payload("sms-delivered"))
    added = InboundRequest(genuine.body + b"&ErrorCode=30003", genuine.headers, genuine.url)
    refusal(ADAPTER, added)


@pytest.mark.parametrize(
    "other_url",
    [
        "https://engage.example.com/webhooks/twilio?engage_message_id=m-43",  # our id changed
        "https://engage.example.com/webhooks/twilio",  # query dropped
        "https://engage.example.com/webhooks/twilio/?engage_message_id=m-42",  # slash added
        "http://engage.example.com/webhooks/twilio?engage_message_id=m-42",  # scheme
        "https://evil.example.com/webhooks/twilio?engage_message_id=m-42",  # host
    ],
)
def test_a_signature_for_another_url_is_refused(other_url: str) -> None:
    refusal(ADAPTER, request(payload("sms-delivered"), url=other_url, signed_url=URL))


def test_a_missing_signature_header_is_refused() -> None:
    genuine = request(payload("sms-delivered"))
    headers = {k: v for k, v in genuine.headers.items() if k != "X-Twilio-Signature"}
    reason = refusal(ADAPTER, InboundRequest(genuine.body, headers, genuine.url))
    assert "X-Twilio-Signature" in reason


def test_an_empty_signature_header_is_refused() -> None:
    genuine = request(payload("sms-delivered"))
    headers = {**genuine.headers, "x-twilio-signature": " "}
    refusal(ADAPTER, InboundRequest(genuine.body, headers, genuine.url))


def test_a_signature_made_with_another_token_is_refused() -> None:
    refusal(ADAPTER, request(payload("sms-delivered"), token="0" * 32))


def test_without_a_token_everything_is_refused_naming_the_variable() -> None:
    for adapter in (TwilioAdapter(None), TwilioAdapter(""), TwilioAdapter.from_environment({})):
        assert AUTH_TOKEN_ENV_VAR in refusal(adapter, request(payload("sms-delivered")))


def test_the_token_comes_from_the_environment_and_is_never_shown() -> None:
    adapter = TwilioAdapter.from_environment({AUTH_TOKEN_ENV_VAR: f"{TOKEN}\n"})
    adapter.verify(request(payload("sms-delivered")))
    assert TOKEN not in repr(adapter)


def test_no_url_means_nothing_to_check_against() -> None:
    genuine = request(payload("sms-delivered"))
    assert "URL" in refusal(ADAPTER, InboundRequest(genuine.body, genuine.headers, url=""))


def test_a_shared_key_signature_is_refused_with_the_reason() -> None:
    settings = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    headers = {"X-Twilio-Webhooks-Signature-Settings": settings}
    reason = refusal(ADAPTER, request(payload("sms-delivered"), headers=headers))
    assert "SharedKey" in reason


@pytest.mark.parametrize(
    ("received", "signed"),
    [
        ("https://engage.example.com/t?x=1", "https://engage.example.com:443/t?x=1"),
        ("https://engage.example.com:443/t?x=1", "https://engage.example.com/t?x=1"),
        ("http://engage.example.com/t", "http://engage.example.com:80/t"),
        ("http://engage.example.com:80/t", "http://engage.example.com/t"),
        ("https://engage.example.com/t#rc=2&ct=1000", "https://engage.example.com/t"),
    ],
)
def test_the_default_port_and_the_fragment_do_not_matter(received: str, signed: str) -> None:
    ADAPTER.verify(request(payload("sms-sent"), url=received, signed_url=signed))


def test_a_port_twilio_did_not_sign_is_accepted_as_twilios_validator_accepts_it() -> None:
    # Twilio does not always sign the port it called: its RequestValidator tries the URL with
    # the port and without it, and so does Engage; the default port, or another, is not tried.
    url = "https://engage.example.com:8443/t"
    assert signed_url_variants(url) == (url, "https://engage.example.com/t")
    for signed, accepted in [
        ("https://engage.example.com/t", True),
        (url, True),
        ("https://engage.example.com:443/t", False),
        ("https://engage.example.com:8444/t", False),
    ]:
        req = request(payload("sms-sent"), url=url, signed_url=signed)
        signature = req.headers["X-Twilio-Signature"]
        assert RequestValidator(TOKEN).validate(url, payload("sms-sent"), signature) is accepted
        if accepted:
            ADAPTER.verify(req)
        else:
            refusal(ADAPTER, req)


def test_a_refusal_names_the_url_it_checked_but_never_a_password() -> None:
    url = "https://engage:hunter2@engage.example.com:8443/t?engage_message_id=m-42#rc=2"
    reason = refusal(ADAPTER, request(payload("sms-sent"), url=url, token="0" * 32))
    assert "https://engage:***@engage.example.com:8443/t?engage_message_id=m-42 " in reason
    assert "with and without its port" in reason
    assert "hunter2" not in reason
    assert "rc=2" not in reason  # the fragment is never signed, so not what was checked


def test_what_is_no_port_is_never_dropped() -> None:
    # the SDK cannot read these as ports (urlparse raises); nothing is tried but the URL
    for url in ["https://engage.example.com:x443/t", "https://engage.example.com:99999/t"]:
        assert signed_url_variants(url) == (url,)


def test_a_repeated_parameter_is_signed_as_twilios_validator_signs_a_multidict() -> None:
    class MultiDict(dict[str, str]):
        def getall(self, name: str) -> list[str]:
            return ["b", "a", "b"] if name == "MediaUrl" else [self[name]]

    params = MultiDict(MessageSid="SM1", MediaUrl="b")
    signature = RequestValidator(TOKEN).compute_signature(URL, params)
    body = b"MessageSid=SM1&MediaUrl=b&MediaUrl=a&MediaUrl=b"
    headers = {"Content-Type": FORM, "X-Twilio-Signature": signature}
    ADAPTER.verify(InboundRequest(body, headers, URL))


def test_the_json_variant_binds_the_body_through_its_hash() -> None:
    genuine = json_request(b'{"MessageSid":"SM1","MessageStatus":"sent","To":"+15622089096"}')
    ADAPTER.verify(genuine)
    tampered = genuine.body.replace(b"sent", b"read")
    assert "bodySHA256" in refusal(ADAPTER, InboundRequest(tampered, genuine.headers, genuine.url))


def test_a_json_body_without_its_hash_in_the_url_is_refused() -> None:
    genuine = json_request(b'{"MessageSid":"SM1","MessageStatus":"sent"}')
    unhashed = genuine.url.partition("?")[0]
    signature = RequestValidator(TOKEN).compute_signature(unhashed, {})
    headers = {**genuine.headers, "X-Twilio-Signature": signature}
    assert "bodySHA256" in refusal(ADAPTER, InboundRequest(genuine.body, headers, unhashed))


def test_a_body_of_another_content_type_is_refused() -> None:
    genuine = request(payload("sms-sent"))
    headers = {**genuine.headers, "Content-Type": "text/plain"}
    refusal(ADAPTER, InboundRequest(genuine.body, headers, genuine.url))


# Agreement with Twilio's RequestValidator on random requests

_hosts = st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z][a-z0-9-]{0,8}){1,2}", fullmatch=True)
_paths = st.from_regex(r"(/[A-Za-z0-9._~-]{0,8}){0,3}", fullmatch=True)
_queries = st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http"]))
    port = draw(st.sampled_from(["", ":443" if scheme == "https" else ":80"]))
    query = draw(_queries)
    return f"{scheme}://{draw(_hosts)}{port}{draw(_paths) or '/'}" + (
        f"?{urlencode(query)}" if query else ""
    )


def _toggle_port(url: str) -> str:
    variants = signed_url_variants(url)
    return variants[1] if len(variants) > 1 else url


@given(
    url=_urls(),
    params=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6),
    signed_with=st.sampled_from(["same", "port toggled", "other url", "other token"]),
)
def test_verify_agrees_with_twilios_request_validator(
    url: str, params: dict[str, str], signed_with: str
) -> None:
    signed_url = {"port toggled": _toggle_port(url), "other url": url + "x"}.get(signed_with, url)
    token = "0" * 32 if signed_with == "other token" else TOKEN
    req = request(params, url=url, signed_url=signed_url, token=token)
    twilio_says = RequestValidator(TOKEN).validate(url, params, req.headers["X-Twilio-Signature"])
    accepted = ours_accept(req)
    assert accepted == twilio_says
    assert accepted == (signed_with in {"same", "port toggled"})


@given(
    members=st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=5),
    tamper=st.booleans(),
)
def test_the_json_variant_agrees_with_twilios_request_validator(
    members: dict[str, str], tamper: bool
) -> None:
    genuine = json_request(orjson.dumps(members))
    body = genuine.body + b" " if tamper else genuine.body
    signature = genuine.headers["X-Twilio-Signature"]
    twilio_says = RequestValidator(TOKEN).validate(genuine.url, body.decode(), signature)
    try:
        ADAPTER.verify(InboundRequest(body, genuine.headers, genuine.url))
        accepted = True
    except SignatureRefused:
        accepted = False
    assert accepted == twilio_says == (not tamper)


_ports = st.integers(1, 65535).filter(lambda port: port not in {80, 443})
_ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: ".".join(map(str, parts)))


@st.composite
def _urls_with_a_port(draw: st.DrawFn) -> tuple[str, str, str]:
    """A URL with a port that is not its scheme's default, and its parts before and after."""
    scheme = draw(st.sampled_from(["https", "http"]))
    query = draw(_queries)
    head = f"{scheme}://{draw(_hosts | _ipv4)}"
    tail = (draw(_paths) or "/") + (f"?{urlencode(query)}" if query else "")
    return head, f":{draw(_ports)}", tail


@given(
    parts=_urls_with_a_port(),
    params=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6),
    signed_with=st.sampled_from(["as received", "without port", "default port", "other port"]),
    other=_ports,
)
def test_a_url_with_a_port_is_accepted_iff_twilios_validator_accepts_it(
    parts: tuple[str, str, str], params: dict[str, str], signed_with: str, other: int
) -> None:
    head, port, tail = parts
    assume(f":{other}" != port)
    url = head + port + tail
    default = ":443" if head.startswith("https") else ":80"
    signed_url = {
        "as received": url,
        "without port": head + tail,
        "default port": head + default + tail,
        "other port": f"{head}:{other}{tail}",
    }[signed_with]
    req = request(params, url=url, signed_url=signed_url)
    twilio_says = RequestValidator(TOKEN).validate(url, params, req.headers["X-Twilio-Signature"])
    accepted = ours_accept(req)
    assert accepted == twilio_says
    assert accepted == (signed_with in {"as received", "without port"})


# Mapping


@pytest.mark.parametrize(
    ("name", "channel", "status"),
    [
        ("sms-sent", Channel.SMS, "sent"),
        ("sms-delivered", Channel.SMS, "delivered"),
        ("sms-undelivered", Channel.SMS, "undelivered"),
        ("sms-inbound-stop", Channel.SMS, "received"),
        ("whatsapp-sent", Channel.WHATSAPP, "sent"),
        ("whatsapp-read", Channel.WHATSAPP, "read"),
        ("whatsapp-inbound", Channel.WHATSAPP, "received"),
    ],
)
def test_documented_callbacks_map_keeping_every_parameter(
    name: str, channel: Channel, status: str
) -> None:
    params = payload(name)
    observation = only_input(ADAPTER.parse(request(params)))
    assert (observation.channel, observation.provider, observation.status) == (
        channel, "twilio", status,
    )  # fmt: skip
    assert observation.provider_message_id == params["MessageSid"]
    assert {k: observation.details[k] for k in params} == params
    assert observation.details[URL_QUERY_KEY] == {"engage_message_id": "m-42"}
    assert observation.occurred_at == RECEIVED_AT  # Twilio sends no time; arrival is honest


def test_every_twilio_status_is_a_status_of_both_channels() -> None:
    for channel in (Channel.SMS, Channel.WHATSAPP):
        for status in STATUSES.values():
            assert LIFECYCLES[channel].canonical(status) == status
    assert "processed" not in STATUSES  # Engage's own; Twilio never reports it


def test_a_parameter_twilio_adds_tomorrow_is_signed_and_kept() -> None:
    params = {**payload("sms-sent"), "CarrierFeeBand": "2"}
    req = request(params)
    ADAPTER.verify(req)
    assert only_input(ADAPTER.parse(req)).details["CarrierFeeBand"] == "2"


def test_the_carrier_done_date_is_kept_but_not_the_time_of_the_report() -> None:
    observation = only_input(ADAPTER.parse(request(payload("sms-undelivered"))))
    assert observation.details["RawDlrDoneDate"] == "2302141031"
    assert observation.details[RAW_DLR_DONE_AT_KEY] == "2023-02-14T10:31:00"  # zone unknown
    assert observation.occurred_at == RECEIVED_AT
    assert observation.details["ErrorCode"] == "30003"


def test_a_done_date_that_is_no_date_stays_raw() -> None:
    params = {**payload("sms-undelivered"), "RawDlrDoneDate": "2313991299"}
    observation = only_input(ADAPTER.parse(request(params)))
    assert observation.details["RawDlrDoneDate"] == "2313991299"
    assert RAW_DLR_DONE_AT_KEY not in observation.details


def test_dedup_keys_are_the_idempotency_token_and_twilios_composite() -> None:
    headers = {"I-Twilio-Idempotency-Token": "idem-1"}
    observation = only_input(ADAPTER.parse(request(payload("sms-undelivered"), headers=headers)))
    assert observation.event_id == "idem-1"
    (key,) = observation.provider_keys
    assert json.loads(key) == [
        "SM5f0e3c9d1a2b4c6d8e0f1a2b3c4d5e6f", "undelivered", "2302141031", "30003",
    ]  # fmt: skip


def test_the_older_sms_parameters_stand_in_for_missing_ones() -> None:
    params = {"SmsSid": "SM1", "SmsStatus": "Delivered", "To": "+15622089096"}
    observation = only_input(ADAPTER.parse(request(params)))
    assert (observation.provider_message_id, observation.status) == ("SM1", "delivered")


def test_a_repeated_parameter_keeps_its_values() -> None:
    body = b"MessageSid=SM1&MessageStatus=sent&MediaUrl=a&MediaUrl=b&MessageStatus=sent"
    req = InboundRequest(body, {"Content-Type": FORM}, URL)
    observation = only_input(ADAPTER.parse(req))
    assert observation.details["MediaUrl"] == ["a", "b"]
    assert observation.details["MessageStatus"] == "sent"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"MessageStatus": "teleported", "SmsStatus": "teleported"}, "teleported"),
        ({"MessageSid": "", "SmsSid": ""}, "MessageSid"),
        ({"MessageStatus": "", "SmsStatus": ""}, "MessageStatus"),
        ({"To": "rcs:+15622089096"}, "rcs"),
        ({"To": "whatsapp:+15622089096", "From": "messenger:123"}, "messenger"),
        ({"MessageSid": " SM1 "}, "provider_message_id"),
    ],
)
def test_a_callback_that_cannot_be_an_observation_is_quarantined(
    change: dict[str, str], named: str
) -> None:
    params = {**payload("sms-delivered"), **change}
    parsed = ADAPTER.parse(request(params))
    assert (parsed.received, parsed.inputs) == (1, ())
    (quarantined,) = parsed.quarantined
    assert quarantined.index is None  # the request is the element
    assert named in quarantined.reason
    kept = orjson.loads(quarantined.element)
    assert {k: kept[k] for k in params} == params
    assert kept[URL_QUERY_KEY] == {"engage_message_id": "m-42"}


def test_a_parameter_given_twice_with_two_values_is_quarantined() -> None:
    body = b"MessageSid=SM1&MessageStatus=sent&MessageStatus=delivered"
    parsed = ADAPTER.parse(InboundRequest(body, {"Content-Type": FORM}, URL))
    (quarantined,) = parsed.quarantined
    assert "MessageStatus" in quarantined.reason


def test_the_json_variant_maps_like_a_form() -> None:
    req = json_request(b'{"MessageSid":"SM1","MessageStatus":"read","To":"whatsapp:+15622089096"}')
    observation = only_input(ADAPTER.parse(req))
    assert (observation.channel, observation.status) == (Channel.WHATSAPP, "read")
    assert observation.details[URL_QUERY_KEY]["bodySHA256"] == body_sha256(req.body)


@pytest.mark.parametrize(
    ("body", "headers", "method", "named"),
    [
        (b"MessageSid=SM1", {"Content-Type": FORM}, "GET", "POST"),
        (b"MessageSid=SM1", {}, "POST", "content type"),
        (b"MessageSid=SM1", {"Content-Type": "text/plain"}, "POST", "text/plain"),
        (b"Body=%FF&MessageSid=SM1", {"Content-Type": FORM}, "POST", "UTF-8"),
        (b"Body=\xff", {"Content-Type": FORM}, "POST", "UTF-8"),
        (b"{", {"Content-Type": "application/json"}, "POST", "JSON"),
        (b"[]", {"Content-Type": "application/json"}, "POST", "object"),
    ],
)
def test_a_body_that_is_not_twilios_is_refused_whole(
    body: bytes, headers: dict[str, str], method: str, named: str
) -> None:
    with pytest.raises(BodyRefused) as refused:
        ADAPTER.parse(InboundRequest(body, headers, URL, method=method))
    assert named in refused.value.reason


# Through the application


@pytest.fixture
def app() -> EngageApplication:
    return open_application("memory://")


def apply(app: EngageApplication, req: InboundRequest) -> None:
    ADAPTER.verify(req)
    app.observe(ADAPTER.parse(req).inputs)


def test_sms_callbacks_land_on_their_message(app: EngageApplication) -> None:
    delivered = payload("sms-delivered")
    apply(app, request({**delivered, "MessageStatus": "sent", "SmsStatus": "sent"}))
    apply(app, request(delivered))
    message = app.find_message(Channel.SMS, delivered["MessageSid"])
    assert message is not None
    assert message.state.status == "delivered"


def test_whatsapp_callbacks_land_on_their_message_in_any_order(app: EngageApplication) -> None:
    read, sent = payload("whatsapp-read"), payload("whatsapp-sent")
    sent = {**sent, "MessageSid": read["MessageSid"], "SmsSid": read["MessageSid"]}
    apply(app, request(read))
    apply(app, request(sent))  # late: changes nothing
    message = app.find_message(Channel.WHATSAPP, read["MessageSid"])
    assert message is not None
    assert message.state.status == "read"
    assert app.find_message(Channel.SMS, read["MessageSid"]) is None


def test_a_resent_callback_is_a_duplicate_with_or_without_its_token(
    app: EngageApplication,
) -> None:
    params = payload("sms-undelivered")
    first = app.observe(ADAPTER.parse(request(params, headers=_token("a"))).inputs)
    retry = app.observe(ADAPTER.parse(request(params, headers=_token("a"))).inputs)
    resent = app.observe(ADAPTER.parse(request(params, headers=_token("b"))).inputs)
    assert (first.applied, retry.duplicates, resent.duplicates) == (1, 1, 1)


def _token(value: str) -> dict[str, str]:
    return {"I-Twilio-Idempotency-Token": value}


def test_an_inbound_stop_unsubscribes_and_locks_the_sender(app: EngageApplication) -> None:
    params = payload("sms-inbound-stop")
    apply(app, request(params))
    channel = app.channel_subscription(ContactKey.parse(Channel.SMS, params["From"]))
    assert channel is not None
    assert channel.current.status is SubscriptionStatus.UNSUBSCRIBED
    assert channel.current.locked_by_user


def test_an_inbound_whatsapp_stop_locks_the_whatsapp_vector_only(app: EngageApplication) -> None:
    params = {**payload("whatsapp-inbound"), "Body": "Stop"}
    apply(app, request(params))
    number = params["From"].removeprefix("whatsapp:")
    whatsapp = app.channel_subscription(ContactKey.parse(Channel.WHATSAPP, number))
    assert whatsapp is not None
    assert whatsapp.current.locked_by_user
    assert app.channel_subscription(ContactKey.parse(Channel.SMS, number)) is None


# Fuzz: nothing but a refusal, whatever arrives

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False,
    allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
    max_size=4),
    max_leaves=12,
)  # fmt: skip
_content_types = st.sampled_from([FORM, "application/json", "application/json; charset=utf-8",
                                  "text/plain", ""])  # fmt: skip
_names = st.sampled_from(["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "From", "To",
                          "Body", "ErrorCode", "RawDlrDoneDate"]) | st.text(max_size=8)  # fmt: skip


def _never_raises_but_refusals(req: InboundRequest) -> None:
    try:
        parsed = ADAPTER.parse(req)
    except BodyRefused:
        pass
    else:
        assert parsed.received == 1
        assert len(parsed.inputs) + len(parsed.quarantined) == 1
    with contextlib.suppress(SignatureRefused):
        ADAPTER.verify(req)


@given(
    body=st.binary(max_size=200),
    content_type=_content_types,
    url=st.text(max_size=40),
    signature=st.text(max_size=30),
    method=st.sampled_from(["POST", "GET", "post"]),
)
def test_arbitrary_bytes_are_refused_or_parsed(
    body: bytes, content_type: str, url: str, signature: str, method: str
) -> None:
    headers = {"Content-Type": content_type, "X-Twilio-Signature": signature}
    _never_raises_but_refusals(InboundRequest(body, headers, url, method=method))


@given(data=_json, as_form=st.booleans())
def test_arbitrary_json_shapes_are_refused_or_parsed(data: Any, as_form: bool) -> None:
    body = orjson.dumps(data)
    _never_raises_but_refusals(InboundRequest(body, {"Content-Type": "application/json"}, URL))
    if as_form and isinstance(data, dict):  # the same members as form parameters
        form = urlencode({k: v if isinstance(v, str) else orjson.dumps(v) for k, v in data.items()})
        _never_raises_but_refusals(InboundRequest(form.encode(), {"Content-Type": FORM}, URL))


@given(params=st.dictionaries(_names, st.text(max_size=20) | _names, max_size=8))
def test_arbitrary_parameters_are_an_observation_or_quarantined(params: dict[str, str]) -> None:
    req = request(params)
    ADAPTER.verify(req)
    parsed = ADAPTER.parse(req)
    assert parsed.received == 1
    assert len(parsed.inputs) + len(parsed.quarantined) == 1


def test_basic_auth_credentials_in_the_url_are_not_signed() -> None:
    """Twilio leaves `user:password@` out of the URL it signs for messaging (research §3.6)."""
    params = payload("sms-delivered")
    received = "https://user:secret@engage.example.com/webhooks/twilio"
    signed = "https://engage.example.com/webhooks/twilio"
    ADAPTER.verify(request(params, url=received, signed_url=signed))
    ADAPTER.verify(request(params, url=received))  # and signed with them, as received
