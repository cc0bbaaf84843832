"""The SendGrid Event Webhook adapter: signatures made with a real P-256 key and checked against
SendGrid's own helper, the documented payloads landing in an application, dedup under retries,
consent from unsubscribe events, and parse never failing on arbitrary input."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st
from sendgrid.helpers.eventwebhook import EventWebhook  # type: ignore[import-untyped]

from adapters.providers.base import (
    BodyRefused,
    InboundRequest,
    Parsed,
    SignatureRefused,
)
from adapters.providers.sendgrid import (
    PUBLIC_KEY_VARIABLE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SendGridAdapter,
)
from adapters.stores import open_application
from engage_core import Channel, EngageApplication, Observation, Send
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import SubscriptionStatus
from engage_core.testing import reports as message_reports

PAYLOADS = Path(__file__).parent / "payloads" / "sendgrid"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}
DOC_ID = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"  # SendGrid's documented id
DOC_PREFIX = "14c5d75ce93.dfd.64b469"
UNSUB, SUB = SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.SUBSCRIBED

# One key pair for the whole module: generating one costs far more than signing.
PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def public_key_text(private: ec.EllipticCurvePrivateKey) -> str:
    """The key as SendGrid shows it: base64 DER SubjectPublicKeyInfo, no PEM lines."""
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


PUBLIC_KEY = public_key_text(PRIVATE_KEY)


def sign(body: bytes, timestamp: str, private: ec.EllipticCurvePrivateKey = PRIVATE_KEY) -> str:
    """What SendGrid puts in the signature header: base64 DER ECDSA over timestamp + body."""
    return base64.b64encode(
        private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    ).decode()


def stamp(at: datetime = NOW) -> str:
    return str(int(at.timestamp()))


def signed(
    body: bytes, timestamp: str | None = None, signature: str | None = None
) -> InboundRequest:
    timestamp = stamp() if timestamp is None else timestamp
    signature = sign(body, timestamp) if signature is None else signature
    headers = {**JSON, SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: timestamp}
    return InboundRequest(body, headers, url="https://engage.example/webhooks/sendgrid")


def refused(adapter: SendGridAdapter, request: InboundRequest) -> str:
    with pytest.raises(SignatureRefused) as raised:
        adapter.verify(request, now=NOW)
    return raised.value.reason


def helper_accepts(request: InboundRequest, public_key: str = PUBLIC_KEY) -> bool:
    """SendGrid's own verdict (it takes the body as text and has no freshness check)."""
    return bool(
        EventWebhook(public_key).verify_signature(
            request.body.decode(),
            request.headers[SIGNATURE_HEADER],
            request.headers[TIMESTAMP_HEADER],
        )
    )


@pytest.fixture
def adapter() -> SendGridAdapter:
    return SendGridAdapter(PUBLIC_KEY)


@pytest.fixture
def app() -> EngageApplication:
    return open_application("memory://")


def event(kind: str = "delivered", **fields: Any) -> dict[str, Any]:
    return {
        "email": "jane@example.com", "timestamp": 1767225600, "event": kind,
        "sg_event_id": f"ev-{kind}", "sg_message_id": DOC_ID, **fields,
    }  # fmt: skip


def body_of(*events: object) -> bytes:
    return orjson.dumps(list(events))


def parse(*events: object) -> Parsed:
    return SendGridAdapter(None).parse(InboundRequest(body_of(*events), JSON))


BODY = (PAYLOADS / "delivered.json").read_bytes()


# Verification


def test_a_signed_request_is_accepted_as_sendgrids_helper_accepts_it(
    adapter: SendGridAdapter,
) -> None:
    request = signed(BODY)
    adapter.verify(request, now=NOW)
    assert helper_accepts(request)


def _tampered() -> Iterator[Any]:
    timestamp = stamp()
    good = sign(BODY, timestamp)
    changed = BODY.replace(b"delivered", b"delivereD")
    yield pytest.param(signed(changed, timestamp, good), id="one-changed-byte")
    yield pytest.param(signed(BODY + b" ", timestamp, good), id="one-extra-byte")
    yield pytest.param(signed(BODY, str(int(timestamp) + 1), good), id="other-timestamp")
    yield pytest.param(signed(BODY, timestamp, sign(BODY, timestamp, OTHER_KEY)), id="wrong-key")
    garbage = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    yield pytest.param(signed(BODY, timestamp, garbage), id="garbage-signature")
    yield pytest.param(signed(BODY, timestamp, sign(b"[]", timestamp)), id="other-body")


@pytest.mark.parametrize("request_", list(_tampered()))
def test_tampered_requests_are_refused_as_sendgrids_helper_refuses_them(
    adapter: SendGridAdapter, request_: InboundRequest
) -> None:
    assert "does not match" in refused(adapter, request_)
    assert not helper_accepts(request_)


@pytest.mark.parametrize(
    ("age", "word"),
    [(timedelta(minutes=11), "old"), (timedelta(minutes=-11), "in the future")],
)
def test_timestamps_outside_the_window_are_refused_though_the_helper_accepts_them(
    adapter: SendGridAdapter, age: timedelta, word: str
) -> None:
    request = signed(BODY, stamp(NOW - age))
    assert helper_accepts(request)  # SendGrid's helper has no replay window
    assert word in refused(adapter, request)


@pytest.mark.parametrize("age", [timedelta(minutes=9), timedelta(minutes=-9), timedelta(0)])
def test_timestamps_inside_the_window_either_way_are_accepted(
    adapter: SendGridAdapter, age: timedelta
) -> None:
    adapter.verify(signed(BODY, stamp(NOW - age)), now=NOW)


def test_the_window_is_configurable_and_defaults_to_the_arrival_time() -> None:
    request = signed(BODY, stamp(NOW - timedelta(minutes=3)))
    strict = SendGridAdapter(PUBLIC_KEY, max_age=timedelta(minutes=2))
    assert "old" in refused(strict, request)
    arrived = InboundRequest(request.body, request.headers, received_at=NOW)
    SendGridAdapter(PUBLIC_KEY).verify(arrived)  # now = when it arrived


@pytest.mark.parametrize("header", [SIGNATURE_HEADER, TIMESTAMP_HEADER])
def test_a_missing_header_is_refused_naming_it(adapter: SendGridAdapter, header: str) -> None:
    request = signed(BODY)
    headers = {k: v for k, v in request.headers.items() if k != header}
    assert header in refused(adapter, InboundRequest(BODY, headers))


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (SIGNATURE_HEADER, "not base64!"),
        (SIGNATURE_HEADER, "é"),
        (TIMESTAMP_HEADER, "soon"),
        (TIMESTAMP_HEADER, " 1780315200"),
        (TIMESTAMP_HEADER, "9" * 40),
    ],
)
def test_malformed_headers_are_refused(adapter: SendGridAdapter, header: str, value: str) -> None:
    request = signed(BODY)
    assert header in refused(adapter, InboundRequest(BODY, {**request.headers, header: value}))


def test_header_names_are_read_in_any_case(adapter: SendGridAdapter) -> None:
    request = signed(BODY)
    adapter.verify(
        InboundRequest(BODY, {k.lower(): v for k, v in request.headers.items()}), now=NOW
    )


def test_the_url_is_not_signed_by_sendgrid(adapter: SendGridAdapter) -> None:
    """Unlike Twilio's, SendGrid's signature covers only timestamp and body: another URL for
    the same signed request verifies (so there is no "wrong URL" refusal to test)."""
    request = signed(BODY)
    adapter.verify(InboundRequest(BODY, request.headers, url="https://elsewhere.example/"), now=NOW)


@pytest.mark.parametrize(
    "unconfigured",
    [SendGridAdapter(None), SendGridAdapter(" "), SendGridAdapter.from_environment({})],
)
def test_without_a_key_every_request_is_refused_naming_the_variable(
    unconfigured: SendGridAdapter,
) -> None:
    assert PUBLIC_KEY_VARIABLE in refused(unconfigured, signed(BODY))


def test_the_key_comes_from_the_environment_as_sendgrid_shows_it_or_as_pem() -> None:
    request = signed(BODY)
    SendGridAdapter.from_environment({PUBLIC_KEY_VARIABLE: PUBLIC_KEY}).verify(request, now=NOW)
    pem = (
        PRIVATE_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    SendGridAdapter(pem).verify(request, now=NOW)
    wrapped = "\n".join(PUBLIC_KEY[i : i + 64] for i in range(0, len(PUBLIC_KEY), 64))
    SendGridAdapter(wrapped).verify(request, now=NOW)


@pytest.mark.parametrize("bad", ["not a key", base64.b64encode(b"\x30\x00").decode()])
def test_an_unreadable_key_fails_at_configuration_naming_the_variable(bad: str) -> None:
    with pytest.raises(ValueError, match=PUBLIC_KEY_VARIABLE):
        SendGridAdapter(bad)


def test_a_key_that_is_not_elliptic_curve_fails_at_configuration() -> None:
    rsa_der = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="P-256"):
        SendGridAdapter(base64.b64encode(rsa_der).decode())


@given(
    signature=st.text(max_size=120),
    timestamp=st.one_of(st.text(max_size=30), st.integers(-(10**20), 10**20).map(str)),
    body=st.binary(max_size=200),
)
def test_verify_only_ever_refuses(signature: str, timestamp: str, body: bytes) -> None:
    headers = {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: timestamp}
    with pytest.raises(SignatureRefused):
        SendGridAdapter(PUBLIC_KEY).verify(InboundRequest(body, headers), now=NOW)


# The documented payloads, through an application

EXPECTED = {
    "processed.json": ("processed", {}),
    "dropped.json": ("dropped", {}),
    "delivered.json": ("delivered", {}),
    "deferred.json": ("deferred", {}),
    "bounce.json": ("bounced", {}),
    "blocked.json": ("bounced", {}),
    "open.json": ("delivered", {"open": 1}),  # engagement implies delivered
    "click.json": ("delivered", {"click": 1}),
    "spamreport.json": ("delivered", {"spamreport": 1}),
    "unsubscribe.json": ("delivered", {"unsubscribe": 1}),
    "group_unsubscribe.json": ("delivered", {"group_unsubscribe": 1}),
    "group_resubscribe.json": ("delivered", {"group_resubscribe": 1}),
}


def state_of(app: EngageApplication, provider_message_id: str) -> tuple[str | None, dict[str, int]]:
    message = app.find_message(Channel.EMAIL, provider_message_id, "sendgrid")
    assert message is not None
    return message.status, {kind: tally.count for kind, tally in message.state.engagement.items()}


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_each_documented_event_lands_with_its_status(
    adapter: SendGridAdapter, app: EngageApplication, name: str, expected: object
) -> None:
    request = signed((PAYLOADS / name).read_bytes())
    adapter.verify(request, now=NOW)
    parsed = adapter.parse(request)
    assert (parsed.received, parsed.quarantined) == (1, ())
    result = app.observe(parsed.inputs)
    assert result.applied == 1
    assert state_of(app, DOC_PREFIX) == expected
    (observation,) = parsed.inputs
    assert isinstance(observation, Observation)
    raw = orjson.loads((PAYLOADS / name).read_bytes())[0]
    assert {k: observation.details[k] for k in raw} == raw  # every field kept
    assert observation.event_id == raw["sg_event_id"]
    assert observation.occurred_at == datetime(2017, 12, 15, 0, 59, 29, tzinfo=UTC)


def test_the_documented_batch_of_every_event_ends_delivered_with_each_engagement(
    adapter: SendGridAdapter, app: EngageApplication
) -> None:
    parsed = adapter.parse(signed((PAYLOADS / "all_events.json").read_bytes()))
    assert (parsed.received, len(parsed.inputs), parsed.quarantined) == (11, 11, ())
    app.observe(parsed.inputs)
    status, engagement = state_of(app, "sg_message_id")  # SendGrid's placeholder, no suffix
    assert status == "delivered"  # positive evidence wins over the bounce and the drop
    assert engagement == dict.fromkeys(
        ["open", "click", "spamreport", "unsubscribe", "group_unsubscribe", "group_resubscribe"],
        1,
    )


def test_bounce_and_blocked_are_both_bounced_keeping_their_type() -> None:
    parsed = parse(event("bounce", type="bounce"), event("bounce", type="blocked", sg_event_id="b"))
    assert [(i.status, i.details["type"]) for i in parsed.inputs if isinstance(i, Observation)] == [
        ("bounced", "bounce"), ("bounced", "blocked"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("machine", "status"),
    [(True, "machine_open"), (False, "open"), (None, "open"), ("true", "open")],
)
def test_machine_opens_are_their_own_engagement(machine: object, status: str) -> None:
    fields = {} if machine is None else {"sg_machine_open": machine}
    (observation,) = parse(event("open", **fields)).inputs
    assert isinstance(observation, Observation)
    assert observation.status == status


@pytest.mark.parametrize(
    ("sg_message_id", "expected"),
    [
        (DOC_ID, DOC_PREFIX),
        ("14c583da911.2c36.1c804d.filter-406.22375.55148AA99.0", "14c583da911.2c36.1c804d"),
        ("5lFl7Fr1Rjme_EyzNNB_5A.stfilter-015.5185.55F883172.0", "5lFl7Fr1Rjme_EyzNNB_5A"),
        ("A6FilwaAR_Wm_VTCEFql_w.filterdrecv-66949dbc98-fvstg-1-648215A4-1D.0",
         "A6FilwaAR_Wm_VTCEFql_w"),
        ("0GOQ6fMTTmiZpLh7usBJwg.recvd-67fdc7b4d6-wbpn9-1-666CAB97-15.0", "0GOQ6fMTTmiZpLh7usBJwg"),
        ("no-suffix-at-all", "no-suffix-at-all"),
    ],
)  # fmt: skip
def test_messages_are_keyed_by_the_id_before_sendgrids_routing_suffix(
    sg_message_id: str, expected: str
) -> None:
    (observation,) = parse(event(sg_message_id=sg_message_id)).inputs
    assert isinstance(observation, Observation)
    assert observation.provider_message_id == expected
    assert observation.details["sg_message_id"] == sg_message_id
    assert (observation.channel, observation.provider) == (Channel.EMAIL, "sendgrid")


# Custom args and the send record

ARGS = {"engage_message_id": "em-1", "user_id": "u-7", "campaign_id": "c-1",
        "campaign_name": "Spring", "journey_id": "j-1", "template_id": "t-1"}  # fmt: skip


def test_custom_args_yield_one_send_record_per_message_per_batch() -> None:
    parsed = parse(
        event("processed", **ARGS),
        event("delivered", **ARGS),
        event("open", **ARGS, sg_message_id="other.filter0001.1.2.0"),
    )
    sends = [i for i in parsed.inputs if isinstance(i, Send)]
    assert [(s.provider_message_id, s.to) for s in sends] == [
        (DOC_PREFIX, "jane@example.com"), ("other", "jane@example.com"),
    ]  # fmt: skip
    send = sends[0]
    fields = ("user_id", "campaign_id", "campaign_name", "journey_id", "template_id")
    assert {f: getattr(send, f) for f in fields} == {f: ARGS[f] for f in fields}
    assert len(parsed.inputs) == 5  # three reports, two send records
    # a send record comes before its event's report, so that report's published event
    # already carries the user and the campaign
    assert isinstance(parsed.inputs[0], Send)
    first = parsed.inputs[1]
    assert isinstance(first, Observation)
    assert first.details["engage_message_id"] == "em-1"


def test_no_custom_args_no_send_record() -> None:
    assert all(isinstance(i, Observation) for i in parse(event(), event("open")).inputs)


def test_marketing_campaign_ids_fill_the_campaign_when_no_custom_arg_does(
    app: EngageApplication,
) -> None:
    adapter = SendGridAdapter(None)
    parsed = adapter.parse(
        InboundRequest((PAYLOADS / "marketing_campaign_ab.json").read_bytes(), JSON)
    )
    app.observe(parsed.inputs)
    message = app.find_message(Channel.EMAIL, "5lFl7Fr1Rjme_EyzNNB_5A", "sendgrid")
    assert message is not None
    assert message.state.send is not None
    assert (message.state.send.campaign_id, message.state.send.campaign_name) == (
        "23314", "unique args ab",
    )  # fmt: skip
    own = parse(event(campaign_id="mine", marketing_campaign_id=5)).inputs[0]
    assert isinstance(own, Send)
    assert own.campaign_id == "mine"


def test_events_link_to_the_senders_own_record(app: EngageApplication) -> None:
    app.record_send(Send.create("email", "sendgrid", DOC_PREFIX, user_id="u-first", to="j@x.io"))
    app.observe(parse(event("delivered", **ARGS)).inputs)
    status, _ = state_of(app, DOC_PREFIX)
    message = app.find_message(Channel.EMAIL, DOC_PREFIX, "sendgrid")
    assert message is not None
    assert message.state.send is not None
    assert status == "delivered"
    assert message.state.send.user_id == "u-first"  # the first recorded value stands
    assert message.state.send.campaign_id == "c-1"  # the report fills what was missing


# Deduplication


def test_a_retry_under_a_new_event_id_is_a_duplicate(app: EngageApplication) -> None:
    first = app.observe(parse(event("open")).inputs)
    again = app.observe(parse(event("open", sg_event_id="a-new-id")).inputs)
    assert (first.applied, again.duplicates) == (1, 1)
    assert state_of(app, DOC_PREFIX) == ("delivered", {"open": 1})


def test_events_without_an_event_id_still_collapse(app: EngageApplication) -> None:
    unsub = event("unsubscribe")
    del unsub["sg_event_id"]
    result = app.observe(parse(unsub, unsub).inputs)
    assert (result.applied, result.duplicates) == (1, 1)


def test_distinct_clicks_and_group_events_in_one_second_stay_distinct(
    app: EngageApplication,
) -> None:
    page = "https://prefs.example/"
    parsed = parse(
        event("click", url="https://a.example/", sg_event_id=None),
        event("click", url="https://b.example/", sg_event_id=None),
        event("group_unsubscribe", url=page, asm_group_id=10, sg_event_id=None),
        event("group_unsubscribe", url=page, asm_group_id=11, sg_event_id=None),
    )
    assert app.observe(parsed.inputs).applied == 4
    assert state_of(app, DOC_PREFIX)[1] == {"click": 2, "group_unsubscribe": 2}


# Consent through the application


def test_an_unsubscribe_event_unsubscribes_the_email_channel(
    adapter: SendGridAdapter, app: EngageApplication
) -> None:
    app.observe(adapter.parse(signed((PAYLOADS / "unsubscribe.json").read_bytes())).inputs)
    channel = app.channel_subscription(ContactKey.parse(Channel.EMAIL, "example@test.com"))
    assert channel is not None
    assert channel.current.status is UNSUB
    assert channel.updates[-1].provenance.source_id == "zz_BjPgU_5pS-J8vlfB1sg=="


def test_group_events_move_the_group_named_by_its_number(
    adapter: SendGridAdapter, app: EngageApplication
) -> None:
    email = ContactKey.parse(Channel.EMAIL, "example@test.com")
    app.observe(adapter.parse(signed((PAYLOADS / "group_unsubscribe.json").read_bytes())).inputs)
    assert app.group_subscription(email, "10").status is UNSUB
    later = event("group_resubscribe", email="example@test.com", asm_group_id=10,
                  timestamp=1513299569 + 60)  # fmt: skip
    app.observe(parse(later).inputs)
    assert app.group_subscription(email, "10").status is SUB


# What is refused or quarantined


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b'[{"event": "delivered"', JSON, "not JSON"),
        (b"[\xff]", JSON, "not UTF-8"),
        (b'{"event": "delivered"}', JSON, "object"),
        (b'"[]"', JSON, "string"),
        (b"[]", {"Content-Type": "application/x-www-form-urlencoded"}, "application/json"),
        (b"[]", {}, "missing"),
        (b"[]", {"Content-Type": "application/json; charset=latin-1"}, "UTF-8"),
    ],
)
def test_a_body_that_is_not_an_array_of_events_is_refused_whole(
    body: bytes, headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(BodyRefused, match=reason):
        SendGridAdapter(None).parse(InboundRequest(body, headers))


def test_an_empty_batch_and_a_charset_are_fine() -> None:
    request = InboundRequest(b"[]", {"content-type": 'Application/JSON; charset="UTF-8"'})
    assert SendGridAdapter(None).parse(request) == Parsed(received=0)


def _without(field: str) -> dict[str, Any]:
    bad = event()
    del bad[field]
    return bad


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("not an object", "JSON object"),
        ([event()], "JSON object"),
        (_without("event"), "missing event"),
        (event("account_status_change"), "unknown event"),
        (event(7), "unknown event"),  # type: ignore[arg-type]
        (_without("sg_message_id"), "missing sg_message_id"),
        (event(sg_message_id=""), "missing sg_message_id"),
        (event(sg_message_id=".filter0001.1.0"), "no message id before"),
        (event(sg_message_id=["x"]), "sg_message_id"),
        (_without("email"), "missing email"),
        (event(email=" "), "email"),
        (_without("timestamp"), "timestamp"),
        (event(timestamp="soon"), "timestamp"),
        (event(timestamp=True), "timestamp"),
        (event(timestamp=1e300), "occurred_at"),
        (event(sg_event_id=5), "sg_event_id"),
        (event("group_unsubscribe"), "asm_group_id"),
        (event("group_unsubscribe", asm_group_id="ten", group="pretend"), "asm_group_id"),
        (event(user_id=["u"]), "user_id"),
        (event(campaign_name="x" * 2000), "campaign_name"),
        (event(sg_message_id="x" * 2000 + ".filter0.0"), "provider_message_id"),
        (event(sg_message_id=" padded.filter0.0"), "provider_message_id"),
    ],
)
def test_a_bad_event_is_quarantined_alone(bad: object, reason: str) -> None:
    parsed = parse(event("processed"), bad, event("delivered"))
    assert parsed.received == 3
    assert [i.status for i in parsed.inputs if isinstance(i, Observation)] == [
        "processed", "delivered",
    ]  # fmt: skip
    (quarantined,) = parsed.quarantined
    assert quarantined.index == 1
    assert orjson.loads(quarantined.element) == bad
    assert reason in quarantined.reason


@pytest.mark.parametrize("name", ["async_bounce.json", "legacy_unsubscribe.json"])
def test_events_sendgrid_could_not_match_to_a_message_are_quarantined(name: str) -> None:
    parsed = SendGridAdapter(None).parse(InboundRequest((PAYLOADS / name).read_bytes(), JSON))
    assert parsed.inputs == ()
    (quarantined,) = parsed.quarantined
    assert "missing sg_message_id" in quarantined.reason


def test_legacy_text_timestamps_and_capitalised_events_are_read() -> None:
    (observation,) = parse(event("Processed", timestamp="1513299569")).inputs
    assert isinstance(observation, Observation)
    assert observation.status == "processed"
    assert observation.occurred_at == datetime(2017, 12, 15, 0, 59, 29, tzinfo=UTC)


def test_an_event_nested_beyond_what_can_be_stored_refuses_the_body() -> None:
    deep = b"[" * 300 + b'"x"' + b"]" * 300  # valid JSON, but orjson writes 254 levels at most
    body = body_of(event())[:-2] + b',"deep":' + deep + b"}]"
    with pytest.raises(BodyRefused, match="event 0"):
        SendGridAdapter(None).parse(InboundRequest(body, JSON))


# Properties

# SendGrid's name of an email status where it is not Engage's
_EVENT_NAMES = {"bounced": "bounce"}


def _realistic(message: int, index: int, kind: str, with_id: bool) -> dict[str, Any]:
    """One event as SendGrid would send it: distinct times, urls and groups where it sends
    them, custom args on every event, `sg_event_id` sometimes missing."""
    fields: dict[str, Any] = {
        "email": f"user{message}@example.com",
        "timestamp": 1767225600 + 60 * index,
        "event": "open" if kind == "machine_open" else kind,
        "sg_message_id": f"msg{message}.filter0001.16648.5515E0B88.{message}",
        "smtp-id": f"<msg{message}@ismtpd-555>",
        "user_id": f"u{message}",
    }
    if with_id:
        fields["sg_event_id"] = f"e{message}-{index}"
    if kind == "machine_open":
        fields["sg_machine_open"] = True
    if kind == "click":
        fields["url"] = f"https://example.com/{index}"
    if kind.startswith("group_"):
        fields.update(url="https://prefs.example/", asm_group_id=index % 3)
    if kind == "bounce":
        fields["type"] = "blocked" if index % 2 else "bounce"
    return fields


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """A clean batch over a few messages, and the same events as retries would bring them:
    shuffled, some sent again (some under a new `sg_event_id`), split over requests.

    What each message's events are, and whether each has its `sg_event_id`, is the shipped
    `reports` (imported as `message_reports`: any email statuses and engagement, in any
    number, each with an event id or not), written as SendGrid writes them. The arrival
    stays local: the property needs the clean events beside the retried ones, which the
    shipped `sendgrid_batches` does not return, and `disorder` gives a new id only to a
    report, never to a raw SendGrid event."""
    clean = []
    for message in range(draw(st.integers(1, 3))):
        for index, report in enumerate(draw(message_reports(Channel.EMAIL, max_size=6,
                                                            with_send=False))):  # fmt: skip
            assert isinstance(report, Observation)  # with_send=False: reports only
            kind = _EVENT_NAMES.get(report.status, report.status)
            clean.append(_realistic(message, index, kind, report.event_id is not None))
    copies = draw(st.lists(st.tuples(st.sampled_from(clean), st.booleans()), max_size=8))
    retried = [
        {**e, "sg_event_id": f"retry-{n}"} if new else e for n, (e, new) in enumerate(copies)
    ]
    messy = draw(st.permutations(clean + retried))
    cuts = sorted(draw(st.lists(st.integers(0, len(messy)), max_size=3)))
    bounds = [0, *cuts, len(messy)]
    return clean, [messy[a:b] for a, b in itertools.pairwise(bounds)]


def _states(app: EngageApplication, events: list[dict[str, Any]]) -> dict[str, object]:
    ids = {e["sg_message_id"].split(".filter")[0] for e in events}
    return {i: state_of(app, i) for i in ids}


@given(batches())
def test_shuffled_and_retried_batches_end_in_the_same_states(
    drawn: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]],
) -> None:
    clean, requests = drawn
    adapter = SendGridAdapter(None)
    expected = open_application("memory://")
    expected.observe(adapter.parse(InboundRequest(body_of(*clean), JSON)).inputs)
    actual = open_application("memory://")
    for chunk in requests:
        parsed = adapter.parse(InboundRequest(body_of(*chunk), JSON))
        assert parsed.quarantined == ()
        actual.observe(parsed.inputs)
    assert _states(actual, clean) == _states(expected, clean)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["email", "timestamp", "event", "sg_event_id", "sg_message_id", "sg_machine_open",
          "url", "asm_group_id", "type", *ARGS, "marketing_campaign_id", "group"]  # fmt: skip
EVENTISH = st.dictionaries(
    st.sampled_from(FIELDS),
    JSON_VALUES | st.sampled_from([*EXPECTED, "open", "bounce", "group_unsubscribe", DOC_ID, 10]),
    max_size=len(FIELDS),
).map(lambda fields: {**event(), **fields})


def _parses_or_refuses(body: bytes) -> None:
    try:
        parsed = SendGridAdapter(None).parse(InboundRequest(body, JSON))
    except BodyRefused:
        return
    reports = sum(isinstance(i, Observation) for i in parsed.inputs)
    assert reports + len(parsed.quarantined) == parsed.received


@given(st.binary(max_size=300))
def test_parse_never_fails_on_arbitrary_bytes(body: bytes) -> None:
    _parses_or_refuses(body)


@given(JSON_VALUES | st.lists(JSON_VALUES | EVENTISH, max_size=6))
def test_parse_never_fails_on_arbitrary_json(value: object) -> None:
    _parses_or_refuses(json.dumps(value).encode())  # the stdlib writes integers of any size


def test_a_key_on_another_curve_is_refused_when_configured() -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ValueError, match="P-256"):
        SendGridAdapter(public_key_text(other))


def test_email_processed_carries_sendgrids_time_and_the_user() -> None:
    """The send record from custom args comes first and publishes Email Processed: with the
    time SendGrid processed the message, and the user, not the time Engage got the batch."""
    from adapters.views import Views, catch_up

    app = open_application("memory://")
    processed = event("processed", **ARGS)
    app.observe(parse(processed, event("delivered", **ARGS)).inputs)
    views = Views(":memory:")
    catch_up(app, [views.outbox])
    (published,) = [e for e in views.outbox.entries() if e.event == "Email Processed"]
    assert (
        published.body["timestamp"]
        == datetime.fromtimestamp(processed["timestamp"], UTC).isoformat()
    )
    assert published.body["userId"] == ARGS["user_id"]
    views.close()


# Counts: our own send record never makes the provider's first `processed` late


def test_a_processed_with_custom_args_is_applied_not_late(app: EngageApplication) -> None:
    """The send record made from the args stands for `processed` before the report itself
    lands; the report is still the provider's first word on the message, so it is applied. A
    second `processed` (another event, another time) is late, as it always was."""
    first = app.observe(parse(event("processed", **ARGS)).inputs, count_sends=False)
    assert first.as_dict() == {"received": 1, "applied": 1, "duplicates": 0, "late": 0,
                               "conflicts": 0, "rejected": 0, "unchanged": 0, "partial": 0,
                               "quarantined": 0}  # fmt: skip
    message = app.find_message(Channel.EMAIL, DOC_PREFIX, "sendgrid")
    assert message is not None
    assert [(e.kind, e.status) for e in message.history] == [
        ("applied", "processed"), ("applied", "processed"),
    ]  # fmt: skip
    again = event("processed", **ARGS, sg_event_id="ev-processed-2", timestamp=1767225601)
    second = app.observe(parse(again).inputs, count_sends=False)
    assert (second.applied, second.late) == (0, 1)
    retried = app.observe(parse(event("processed", **ARGS)).inputs, count_sends=False)
    assert (retried.received, retried.duplicates) == (1, 1)


def test_a_processed_after_a_later_status_is_still_late(app: EngageApplication) -> None:
    result = app.observe(
        parse(event("delivered", **ARGS), event("processed", **ARGS)).inputs, count_sends=False
    )
    assert (result.applied, result.late) == (1, 1)  # it did arrive after `delivered`


@given(st.data())
def test_the_first_provider_processed_is_never_late_because_of_our_record(
    data: st.DataObject,
) -> None:
    """Send records (ours, or from custom args) and `processed` reports, in any order: the
    first `processed` report is applied, any later one late, and `Email Processed` goes out
    once."""
    from engage_core.message.events import MessageEvent, Observed, Outcome
    from engage_core.segment.mapping import message_events, publishes_processed

    own = Send.create("email", "sendgrid", DOC_PREFIX, to="jane@example.com", user_id="u-1")
    reports = [
        parse(event("processed", **ARGS, sg_event_id=f"p{n}", timestamp=1767225600 + n)).inputs
        for n in range(3)
    ]
    batches = data.draw(st.permutations([[own], *reports]))
    app = open_application("memory://")
    for batch in batches:
        app.observe(batch, count_sends=False)
    message = app.find_message(Channel.EMAIL, DOC_PREFIX, "sendgrid")
    assert message is not None
    outcomes = [e.kind for e in message.history if e.event_id is not None]
    assert outcomes == ["applied", "late", "late"]
    log = list(app.repository.event_store.get(message.id))
    published: list[str] = []
    processed = False
    for stored in log:
        assert isinstance(stored, MessageEvent)
        assert not isinstance(stored, Observed) or stored.outcome is not Outcome.DUPLICATE
        out = message_events(stored, message.state.send, processed_published=processed)
        processed = processed or publishes_processed(out)
        published.extend(t.event for t in out)
    assert published.count("Email Processed") == 1
