"""Meta WhatsApp Cloud API webhooks (issue 4): real HMAC signatures over the raw body, Meta's
documented payloads mapped and applied, bad elements quarantined alone, the subscription
handshake, and parse never raising anything but `BodyRefused` whatever the bytes."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.providers import BodyRefused, InboundRequest, SignatureRefused
from adapters.providers.base import Parsed
from adapters.providers.meta import STATUSES, MetaAdapter, SubscriptionRefused
from adapters.stores import open_application
from engage_core import Channel, EngageApplication, Observation
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import SourceKind, SubscriptionStatus

SECRET = "3f1c0b5e9d2a47e6b8c1d0f2a3b4c5d6"  # a test app secret (Meta's are 32 hex digits)
PAYLOADS = Path(__file__).parent / "payloads" / "meta"
OUTBOUND = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"  # in the status files
USER = "+16505551234"


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def first(name: str, key: str) -> Any:
    """The first status or message of a payload file."""
    return orjson.loads(payload(name))["entry"][0]["changes"][0]["value"][key][0]


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request(body: bytes, **headers: str) -> InboundRequest:
    """A request as Meta sends it: JSON, signed over these exact bytes."""
    names = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body)}
    names.update({name.replace("_", "-"): value for name, value in headers.items()})
    return InboundRequest(body, names, url="https://engage.example.com/webhooks/meta")


def envelope(statuses: list[Any] | None = None, messages: list[Any] | None = None) -> bytes:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": {}}
    if statuses is not None:
        value["statuses"] = statuses
    if messages is not None:
        value["messages"] = messages
    change = {"field": "messages", "value": value}
    entry = {"id": "102290129340398", "changes": [change]}
    return orjson.dumps({"object": "whatsapp_business_account", "entry": [entry]})


def status(wamid: str, word: str, at: int, **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": word, "timestamp": str(at), "recipient_id": USER[1:], **extra}


def text(wamid: str, body: str, at: int = 1750264200) -> dict[str, Any]:
    return {"from": USER[1:], "id": wamid, "timestamp": str(at), "type": "text",
            "text": {"body": body}}  # fmt: skip


def parse(body: bytes) -> Parsed:
    return MetaAdapter(SECRET).parse(request(body))


@pytest.fixture
def app() -> Iterator[EngageApplication]:
    application = open_application("memory://")
    yield application
    application.close()


def receive(app: EngageApplication, body: bytes) -> Parsed:
    """What the web service will do: verify, parse, observe."""
    adapter, inbound = MetaAdapter(SECRET), request(body)
    adapter.verify(inbound)
    parsed = adapter.parse(inbound)
    app.observe(parsed.inputs)
    return parsed


# Signatures


FIXTURES = sorted(path.stem for path in PAYLOADS.glob("*.json"))


@pytest.mark.parametrize("name", FIXTURES)
def test_a_real_signature_verifies(name: str) -> None:
    MetaAdapter(SECRET).verify(request(payload(name)))


def test_the_signature_is_over_the_bytes_as_sent() -> None:
    # Meta escapes non-ASCII (ä as \u00e4) before signing: the same JSON re-encoded as raw
    # UTF-8 is other bytes, and would be refused. Verifying what arrived needs no such guess.
    escaped = envelope(messages=[text("wamid.A", "ä")]).replace("ä".encode(), b"\\u00e4")
    MetaAdapter(SECRET).verify(request(escaped))
    reencoded = orjson.dumps(orjson.loads(escaped))
    forged = InboundRequest(reencoded, request(escaped).headers)
    with pytest.raises(SignatureRefused, match="does not match"):
        MetaAdapter(SECRET).verify(forged)


def test_meta_signs_neither_url_nor_time() -> None:
    """So another URL or an old request still verifies; a replay is a duplicate instead (see
    test_a_replayed_request_changes_nothing)."""
    inbound = request(payload("status_sent"))
    moved = InboundRequest(inbound.body, inbound.headers, url="https://elsewhere.example/x")
    MetaAdapter(SECRET).verify(moved, now=datetime(2040, 1, 1, tzinfo=UTC))


def test_one_changed_byte_is_refused() -> None:
    inbound = request(payload("status_sent"))
    body = bytearray(inbound.body)
    body[len(body) // 2] ^= 0x01
    with pytest.raises(SignatureRefused, match="does not match"):
        MetaAdapter(SECRET).verify(InboundRequest(bytes(body), inbound.headers))


def test_another_app_secret_is_refused() -> None:
    with pytest.raises(SignatureRefused, match="does not match"):
        MetaAdapter("another-app-secret").verify(request(payload("status_sent")))


def test_a_missing_signature_is_refused() -> None:
    body = payload("status_sent")
    legacy = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    inbound = InboundRequest(body, {"Content-Type": "application/json", "X-Hub-Signature": legacy})
    with pytest.raises(SignatureRefused, match="missing X-Hub-Signature-256"):
        MetaAdapter(SECRET).verify(inbound)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.removeprefix("sha256="),  # no prefix
        lambda s: "sha1=" + s.removeprefix("sha256="),  # another algorithm
        lambda s: s[:-1] + "g",  # not hex
        lambda s: s[:-2],  # too short
        lambda s: s + "00",  # too long
        lambda s: "",
    ],
)
def test_a_malformed_signature_is_refused(mangle: Any) -> None:
    inbound = request(payload("status_sent"))
    header = mangle(inbound.headers["X-Hub-Signature-256"])
    bad = InboundRequest(inbound.body, {**inbound.headers, "X-Hub-Signature-256": header})
    with pytest.raises(SignatureRefused, match="expected sha256=<64 hex digits>"):
        MetaAdapter(SECRET).verify(bad)


def test_hex_case_and_header_name_case_do_not_matter() -> None:
    inbound = request(payload("status_sent"))
    upper = "sha256=" + inbound.headers["X-Hub-Signature-256"][7:].upper()
    MetaAdapter(SECRET).verify(InboundRequest(inbound.body, {"x-hub-signature-256": upper}))


@pytest.mark.parametrize("secret", [None, "", "  \n"])
def test_no_secret_configured_refuses_and_names_the_setting(secret: str | None) -> None:
    with pytest.raises(SignatureRefused, match="set ENGAGE_META_APP_SECRET"):
        MetaAdapter(secret).verify(request(payload("status_sent")))


def test_secrets_come_from_the_environment() -> None:
    environ = {"ENGAGE_META_APP_SECRET": SECRET + "\n", "ENGAGE_META_VERIFY_TOKEN": "tok"}
    adapter = MetaAdapter.from_environment(environ)
    adapter.verify(request(payload("status_sent")))  # a secret file's newline is not the secret
    assert adapter.verify_subscription(handshake(token="tok")) == "1158201444"
    assert SECRET not in repr(adapter)
    with pytest.raises(SignatureRefused, match="ENGAGE_META_APP_SECRET"):
        MetaAdapter.from_environment({}).verify(request(payload("status_sent")))


# Meta's documented payloads, mapped


@pytest.mark.parametrize(
    ("name", "expected", "at"),
    [
        ("status_sent", "sent", 1750263773),
        ("status_delivered", "delivered", 1750263775),
        ("status_read", "read", 1750263790),
        ("status_failed", "failed", 1750263802),
    ],
)
def test_documented_statuses_map(name: str, expected: str, at: int) -> None:
    parsed = parse(payload(name))
    (observation,) = parsed.inputs
    raw = first(name, "statuses")
    assert isinstance(observation, Observation)
    assert (observation.channel, observation.provider) == (Channel.WHATSAPP, "meta")
    assert (observation.provider_message_id, observation.status) == (raw["id"], expected)
    assert observation.occurred_at == datetime.fromtimestamp(at, UTC)
    assert observation.details == raw  # recipient, conversation, pricing, errors: all kept
    assert (parsed.received, parsed.quarantined, parsed.ignored) == (1, (), ())


def test_failed_keeps_meta_errors_and_sent_keeps_the_senders_own_data() -> None:
    (failed,) = parse(payload("status_failed")).inputs
    assert isinstance(failed, Observation)
    assert failed.details["errors"][0]["code"] == 131050
    (sent,) = parse(payload("status_sent")).inputs
    assert isinstance(sent, Observation)
    assert sent.details["biz_opaque_callback_data"] == "engage:campaign-spring"


@pytest.mark.parametrize(
    ("name", "key", "words"),
    [
        ("message_text", "Body", "Does it come in another color?"),
        # a tapped choice is kept, as `choice`, never as typed text
        ("message_button", "choice", "No"),
        ("message_interactive_button_reply", "choice", "Change"),
        ("message_interactive_list_reply", "choice", "Express shipping"),
    ],
)
def test_documented_inbound_messages_map(name: str, key: str, words: str) -> None:
    (observation,) = parse(payload(name)).inputs
    raw = first(name, "messages")
    assert isinstance(observation, Observation)
    assert (observation.status, observation.provider_message_id) == ("received", raw["id"])
    assert observation.event_id == raw["id"]  # consent changes cite the message
    assert observation.occurred_at == datetime.fromtimestamp(int(raw["timestamp"]), UTC)
    assert observation.details == {**raw, key: words, "From": USER}


def test_other_inbound_types_have_no_body() -> None:
    reaction = {"from": USER[1:], "id": "wamid.R", "timestamp": "1750264300", "type": "reaction",
                "reaction": {"message_id": OUTBOUND, "emoji": "\U0001f44d"}}  # fmt: skip
    (observation,) = parse(envelope(messages=[reaction])).inputs
    assert isinstance(observation, Observation)
    assert "Body" not in observation.details
    assert observation.details["From"] == USER


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("16505551234", USER),
        ("+16505551234", USER),
        # a user who hides the number behind a username: still received, but no consent can
        # be keyed (Engage keys WhatsApp consent by number); the business-scoped id is kept
        ("US.13491208655302741918", None),
        (None, None),
    ],
)
def test_from_is_read_as_e164_when_it_is_a_number(sender: str | None, expected: str | None) -> None:
    message = text("wamid.F", "STOP") | {"from_user_id": "US.13491208655302741918"}
    if sender is None:
        del message["from"]
    else:
        message["from"] = sender
    (observation,) = parse(envelope(messages=[message])).inputs
    assert isinstance(observation, Observation)
    assert observation.status == "received"
    assert observation.details.get("From") == expected
    assert observation.details["from_user_id"] == "US.13491208655302741918"


def test_a_played_voice_message_counts_as_read() -> None:
    (observation,) = parse(envelope([status(OUTBOUND, "played", 1750263999)])).inputs
    assert isinstance(observation, Observation)
    assert observation.status == "read"
    assert observation.details["status"] == "played"


# Through the application


def test_documented_statuses_make_one_lifecycle(app: EngageApplication) -> None:
    for name in ("status_sent", "status_delivered", "status_read"):
        receive(app, payload(name))
    message = app.find_message(Channel.WHATSAPP, OUTBOUND, "meta")
    assert message is not None
    assert message.status == "read"
    receive(app, payload("status_failed"))
    lost = app.find_message(Channel.WHATSAPP, first("status_failed", "statuses")["id"], "meta")
    assert lost is not None
    assert lost.status == "failed"


def test_read_without_delivered_infers_delivered(app: EngageApplication) -> None:
    receive(app, payload("status_sent"))
    receive(app, payload("status_read"))  # Meta skips delivered when read at once
    message = app.find_message(Channel.WHATSAPP, OUTBOUND, "meta")
    assert message is not None
    assert message.status == "read"
    assert "delivered" in message.state.known


def test_a_replayed_request_changes_nothing(app: EngageApplication) -> None:
    receive(app, payload("status_sent"))
    result = app.observe(MetaAdapter(SECRET).parse(request(payload("status_sent"))).inputs)
    assert (result.received, result.duplicates) == (1, 1)


def test_dedup_key_is_id_status_and_time() -> None:
    once, later, again = (
        parse(envelope([status(OUTBOUND, "read", at)])).inputs[0] for at in (10, 11, 10)
    )
    assert isinstance(once, Observation)
    assert isinstance(later, Observation)
    assert isinstance(again, Observation)
    assert once.dedup_keys == again.dedup_keys
    assert set(once.dedup_keys).isdisjoint(later.dedup_keys)


def test_each_group_participants_report_counts(app: EngageApplication) -> None:
    reports = [
        status(OUTBOUND, "delivered", 20, recipient_type="group", recipient_participant_id=who)
        for who in ("1555", "1666")
    ]
    result = app.observe(parse(envelope(reports)).inputs)
    assert result.duplicates == 0  # same message, status and time: two participants, two reports
    again = app.observe(parse(envelope(reports)).inputs)
    assert again.duplicates == 2


@pytest.mark.parametrize("word", ["STOP", "  sToP ", "unsubscribe"])
def test_an_inbound_stop_unsubscribes_and_locks_the_whatsapp_number(
    app: EngageApplication, word: str
) -> None:
    receive(app, envelope(messages=[text("wamid.STOP1", word)]))
    whatsapp = app.channel_subscription(ContactKey.parse(Channel.WHATSAPP, USER))
    assert whatsapp is not None
    assert whatsapp.current.status is SubscriptionStatus.UNSUBSCRIBED
    assert whatsapp.current.locked_by_user
    provenance = whatsapp.updates[-1].provenance
    assert (provenance.kind, provenance.source_id) == (SourceKind.KEYWORD, "wamid.STOP1")
    # the same number's SMS subscription is another vector
    assert app.channel_subscription(ContactKey.parse(Channel.SMS, USER)) is None


def test_start_after_stop_resubscribes(app: EngageApplication) -> None:
    receive(app, envelope(messages=[text("wamid.S1", "stop", 100), text("wamid.S2", "Start", 200)]))
    contact = ContactKey.parse(Channel.WHATSAPP, USER)
    whatsapp = app.channel_subscription(contact)
    assert whatsapp is not None
    assert whatsapp.current.status is SubscriptionStatus.SUBSCRIBED
    assert not whatsapp.current.locked_by_user
    assert app.can_send(contact).allowed


def tapped(wamid: str, kind: str, title: str, at: int) -> dict[str, Any]:
    """An inbound button or list answer as Meta sends it (`button` is a template's quick-reply
    button, the others answers to an interactive message)."""
    message: dict[str, Any] = {"from": USER[1:], "id": wamid, "timestamp": str(at)}
    if kind == "button":
        return message | {"type": "button", "button": {"text": title, "payload": title}}
    reply = {"id": f"choice-{title}", "title": title}
    return message | {"type": "interactive", "interactive": {"type": kind, kind: reply}}


_TAPS = [(kind, title) for kind in ("button", "button_reply", "list_reply")
         for title in ("Yes", "START", "stop")]  # fmt: skip


@pytest.mark.parametrize(("kind", "title"), _TAPS)
def test_a_tapped_choice_is_no_keyword(app: EngageApplication, kind: str, title: str) -> None:
    contact = ContactKey.parse(Channel.WHATSAPP, USER)
    receive(app, envelope(messages=[tapped("wamid.TAP1", kind, title, 100)]))
    assert app.channel_subscription(contact) is None  # no opt-in, no opt-out
    receive(app, envelope(messages=[text("wamid.TAP2", "STOP", 200)]))
    receive(app, envelope(messages=[tapped("wamid.TAP3", kind, title, 300)]))
    whatsapp = app.channel_subscription(contact)
    assert whatsapp is not None
    assert whatsapp.current.status is SubscriptionStatus.UNSUBSCRIBED  # a tapped START unlocks
    assert whatsapp.current.locked_by_user  # nothing: only the typed word does
    assert [u.provenance.source_id for u in whatsapp.updates] == ["wamid.TAP2"]
    message = app.find_message(Channel.WHATSAPP, "wamid.TAP3", "meta")
    assert message is not None  # the tap itself is kept, title and all
    assert message.history[-1].details["choice"] == title


@pytest.mark.parametrize("word", ["START", "yes", " Unstop "])
def test_a_typed_start_alone_changes_nothing_on_whatsapp(app: EngageApplication, word: str) -> None:
    # opting in to WhatsApp is the business's to collect; a START only undoes a STOP
    receive(app, envelope(messages=[text("wamid.Y1", word, 100)]))
    contact = ContactKey.parse(Channel.WHATSAPP, USER)
    whatsapp = app.channel_subscription(contact)
    assert whatsapp is None or whatsapp.current.status is None
    assert not app.can_send(contact).allowed


# Quarantine: one bad element alone


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"status": "sent", "timestamp": "1750263773"}, "id: expected the wamid"),
        (status("wamid.B", "deleted", 1), "status: expected one of sent, delivered"),
        (status("wamid.B", "sent", 1) | {"timestamp": "yesterday"}, "timestamp: expected Unix"),
        (status("wamid.B", "sent", 1) | {"timestamp": -5}, "timestamp: expected Unix"),
        (status("wamid.B", "sent", 1) | {"timestamp": "999999999999"}, "occurred_at: Unix"),
        (status(" wamid.B", "sent", 1), "provider_message_id: surrounding whitespace"),
        (["not", "a", "status"], "expected an object"),
    ],
)
def test_one_bad_status_among_good_ones_is_quarantined_alone(
    app: EngageApplication, bad: Any, reason: str
) -> None:
    good = [status("wamid.G1", "sent", 1), status("wamid.G2", "delivered", 2)]
    parsed = receive(app, envelope([good[0], bad, good[1]]))
    assert parsed.received == 3
    (quarantined,) = parsed.quarantined
    assert quarantined.index == 1
    assert orjson.loads(quarantined.element) == bad
    assert quarantined.reason.startswith("entry[0].changes[0].value.statuses[1]: ")
    assert reason in quarantined.reason
    for wamid, expected in (("wamid.G1", "sent"), ("wamid.G2", "delivered")):
        message = app.find_message(Channel.WHATSAPP, wamid, "meta")
        assert message is not None
        assert message.status == expected


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (text("wamid.T", "x") | {"text": {"body": 7}}, "text.body: expected a string"),
        (text("wamid.T", "x") | {"type": "button"}, "button.text: expected a string"),
        (text("wamid.T", "x") | {"type": None}, "type: expected a string"),
        (text("wamid.T", "x") | {"from": 16505551234}, "from: expected the sender's number"),
        (
            text("wamid.T", "x")
            | {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {}}},
            "interactive.list_reply.title: expected a string",
        ),
    ],
)
def test_a_bad_inbound_message_is_quarantined_alone(bad: Any, reason: str) -> None:
    parsed = parse(envelope(messages=[bad, text("wamid.OK", "hello")]))
    (quarantined,) = parsed.quarantined
    assert (quarantined.index, parsed.received) == (0, 2)
    assert reason in quarantined.reason
    (good,) = parsed.inputs
    assert isinstance(good, Observation)
    assert good.details["Body"] == "hello"


def test_unreadable_containers_are_quarantined_and_the_rest_apply() -> None:
    good = {"field": "messages", "value": {"statuses": [status("wamid.G", "sent", 1)]}}
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            "not an entry",
            {"changes": {"not": "a list"}},
            {"changes": [{"value": {}}, {"field": "messages", "value": []},
                         {"field": "messages", "value": {"statuses": "x"}}, good]},
        ],
    }  # fmt: skip
    parsed = parse(orjson.dumps(document))
    reasons = [q.reason for q in parsed.quarantined]
    assert reasons == [
        "entry[0]: expected an object with a changes list",
        "entry[1]: expected an object with a changes list",
        "entry[2].changes[0]: expected an object with a field name",
        "entry[2].changes[1]: value: expected an object (got [])",
        "entry[2].changes[2].value.statuses: expected a list",
    ]
    assert [q.index for q in parsed.quarantined] == [0, 1, 2, 3, 4]
    assert parsed.received == 6
    assert [o.provider_message_id for o in parsed.inputs if isinstance(o, Observation)] == [
        "wamid.G"
    ]


def test_other_fields_and_value_errors_are_ignored_but_named() -> None:
    """Valid notifications that are no message facts: nothing to fix or replay, so not in
    quarantine; named in `ignored` for the operator's log."""
    document = orjson.loads(envelope([status(OUTBOUND, "sent", 1)]))
    document["entry"][0]["changes"].append({"field": "account_update", "value": {"event": "X"}})
    parsed = parse(orjson.dumps(document))
    assert (parsed.received, len(parsed.inputs), parsed.quarantined) == (1, 1, ())
    assert parsed.ignored == ("entry[0].changes[1]: field 'account_update' (not messages)",)
    errors = parse(payload("value_errors"))
    assert (errors.received, errors.inputs, errors.quarantined) == (0, (), ())
    (note,) = errors.ignored
    assert note.startswith("entry[0].changes[0].value.errors: ")
    assert "130429" in note


# Whole-body refusals


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"object=whatsapp_business_account", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"object": "page", "entry": []}', "object: expected 'whatsapp_business_account'"),
        (b'{"entry": []}', "object: expected"),
        (b'{"object": "whatsapp_business_account"}', "entry: expected a list"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "entry: expected a list"),
        (b"[" * 2000 + b"]" * 2000, "not JSON"),
        (
            b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 400 + b"]" * 400 + b"}",
            "nested deeper",
        ),
    ],
)
def test_a_body_that_is_no_meta_notification_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(BodyRefused, match=reason):
        parse(body)


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                     "application/json; charset=latin-1"],
)  # fmt: skip
def test_a_body_that_is_not_utf8_json_by_its_content_type_is_refused(
    content_type: str | None,
) -> None:
    body = payload("status_sent")
    headers = {} if content_type is None else {"Content-Type": content_type}
    with pytest.raises(BodyRefused, match="Content-Type"):
        MetaAdapter(SECRET).parse(InboundRequest(body, headers))


def test_content_type_parameters_are_read() -> None:
    inbound = request(payload("status_sent"), Content_Type='application/json; charset="UTF-8"')
    assert len(MetaAdapter(SECRET).parse(inbound).inputs) == 1


# The subscription handshake


def handshake(mode: str = "subscribe", token: str = "tok", challenge: str = "1158201444") -> Any:
    return {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}


def test_the_handshake_echoes_the_challenge() -> None:
    adapter = MetaAdapter(SECRET, verify_token="tok")
    assert adapter.verify_subscription(handshake()) == "1158201444"


@pytest.mark.parametrize(
    ("query", "configured", "reason"),
    [
        (handshake(token="other"), "tok", "does not match"),
        (handshake(token="tök"), "tok", "does not match"),
        (handshake(mode="unsubscribe"), "tok", "hub.mode"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "tok", "does not match"),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok"}, "tok", "hub.challenge"),
        (handshake(), None, "set ENGAGE_META_VERIFY_TOKEN"),
        (handshake(token=""), "", "set ENGAGE_META_VERIFY_TOKEN"),
    ],
)
def test_the_handshake_is_refused(
    query: dict[str, str], configured: str | None, reason: str
) -> None:
    with pytest.raises(SubscriptionRefused, match=reason) as refused:
        MetaAdapter(SECRET, verify_token=configured).verify_subscription(query)
    assert isinstance(refused.value, SignatureRefused)
    assert refused.value.http_status == 403


# Never anything but the two refusals


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # orjson writes UTF-8
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_KEYS = st.sampled_from(["id", "status", "timestamp", "from", "type", "text", "body"]) | _TEXT
_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


def _or_any(right: Any, odds: int) -> Any:
    """Mostly the right thing at this place; one time in `odds`, any JSON (a wrong type)."""
    return st.integers(1, odds).flatmap(lambda n: _JSON if n == 1 else right)


def _list(element: Any) -> Any:
    return _or_any(st.lists(element, min_size=1, max_size=3), odds=10)


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    return _or_any(st.fixed_dictionaries(required, optional=optional or {}), odds=10)


def _words(*words: object) -> Any:
    return _or_any(st.sampled_from(words), odds=8)


# The right keys at every level, each value sometimes of a wrong type; words near the valid ones.
_SAID = _words("stop", " Start ", "Yes please")
_REPLY = _object({"title": _SAID})
_INTERACTIVE = _object(
    {"type": _words("button_reply", "list_reply", "nfm_reply")},
    {"list_reply": _REPLY, "button_reply": _REPLY},
)
_ELEMENT = _object(
    {
        "id": _words("wamid.A", "wamid.B", "wamid.C", " wamid.D"),
        "timestamp": _words("1750263773", 17, "1750263790", "-1"),
        "status": _words(*STATUSES, "deleted"),
        "type": _words("text", "button", "interactive", "image"),
    },
    {
        "from": _words("16505551234", "US.1349"),
        "recipient_participant_id": _words("1555"),
        "text": _object({"body": _SAID}),
        "button": _object({"text": _SAID}),
        "interactive": _INTERACTIVE,
    },
)
_VALUE = _object({}, {"statuses": _list(_ELEMENT), "messages": _list(_ELEMENT), "errors": _JSON})
_CHANGE = _object({"field": _words("messages", "account_update"), "value": _VALUE})
_ENTRY = _object({"changes": _list(_CHANGE)})
_DOCUMENT = _object({"object": _words("whatsapp_business_account"), "entry": _list(_ENTRY)})


def _parses_or_refuses(body: bytes) -> None:
    try:
        parsed = parse(body)
    except BodyRefused:
        return
    assert len(parsed.inputs) + len(parsed.quarantined) == parsed.received  # nothing vanishes
    indexes = [q.index for q in parsed.quarantined]
    assert all(i is not None and 0 <= i < parsed.received for i in indexes)
    assert len(set(indexes)) == len(indexes)
    assert all(isinstance(o, Observation) and o.provider == "meta" for o in parsed.inputs)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_else(body: bytes) -> None:
    _parses_or_refuses(body)


@given(_DOCUMENT)
def test_arbitrary_json_shapes_never_raise_anything_else(document: Any) -> None:
    _parses_or_refuses(orjson.dumps(document))


_HEADER_NAMES = st.sampled_from(["X-Hub-Signature-256", "x-hub-signature-256", "Content-Type"])


@given(st.binary(max_size=200), st.dictionaries(_HEADER_NAMES, _TEXT))
def test_verify_never_raises_anything_else(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureRefused):
        MetaAdapter(SECRET).verify(InboundRequest(body, headers))


_HUB = st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge"])


@given(st.dictionaries(_HUB | st.text(), st.text(max_size=12)), st.text(max_size=12) | st.none())
def test_the_handshake_never_raises_anything_else(query: dict[str, str], token: str | None) -> None:
    with contextlib.suppress(SubscriptionRefused):
        assert MetaAdapter(SECRET, verify_token=token).verify_subscription(query)
