"""Consent keywords end to end on SQLite: Twilio's whole default lists, words a deployment
adds, Twilio's `OptOutType` verdict over the text, and tapped WhatsApp choices that are no
keyword, through the real Twilio adapter where a provider is involved."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from adapters.providers.base import InboundRequest
from adapters.providers.twilio import TwilioAdapter
from engage_core import Channel, EngageApplication
from engage_core.consent.contacts import ContactKey
from engage_core.consent.keywords import (
    DEFAULT_KEYWORDS,
    DEFAULT_WORDS,
    ENVIRONMENT_VARIABLES,
    Keyword,
    Keywords,
    normalised,
)
from engage_core.consent.policies import PolicySettings
from engage_core.consent.rules import SourceKind, SubscriptionStatus
from engage_core.observations import ProviderFacts
from tests.conftest import sqlite_env

TOKEN = "9f3c1b7e2d4a6058b1c3e5f7a9d2b4c6"  # the shape of an Auth Token; not a real one
URL = "https://engage.example.com/webhooks/twilio"
ADAPTER = TwilioAdapter(TOKEN)
NUMBER = "+12135618345"
SUB, UNSUB = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED


@pytest.fixture
def app(tmp_path: Path) -> Iterator[EngageApplication]:
    application = EngageApplication(env=sqlite_env(tmp_path / "k.db"))
    yield application
    application.close()


def inbound(sid: str, body: str, channel: str = "sms", **extra: str) -> dict[str, str]:
    sender = NUMBER if channel == "sms" else f"whatsapp:{NUMBER}"
    to = "+15017122661" if channel == "sms" else "whatsapp:+14155238886"
    return {"MessageSid": sid, "SmsSid": sid, "SmsStatus": "received", "Body": body,
            "From": sender, "To": to, "AccountSid": "AC1", "NumMedia": "0", **extra}  # fmt: skip


def receive(app: EngageApplication, params: dict[str, str]) -> None:
    """What the web service does with one Twilio request: verify, parse, observe."""
    signature = RequestValidator(TOKEN).compute_signature(URL, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": signature}  # fmt: skip
    request = InboundRequest(urlencode(params).encode(), headers, URL)
    ADAPTER.verify(request)
    parsed = ADAPTER.parse(request)
    assert parsed.quarantined == ()
    app.observe(parsed.inputs)


def state(app: EngageApplication, channel: str = "sms") -> tuple[Any, bool] | None:
    found = app.channel_subscription(ContactKey.parse(channel, NUMBER))
    if found is None or found.current.status is None:
        return None
    return found.current.status, found.current.locked_by_user


# Twilio's lists, whole


@pytest.mark.parametrize("word", DEFAULT_WORDS[Keyword.STOP])
def test_every_twilio_stop_word_locks_the_number(app: EngageApplication, word: str) -> None:
    receive(app, inbound("SM1", word.lower()))
    assert state(app) == (UNSUB, True)
    assert not app.can_send(ContactKey.parse("sms", NUMBER), transactional=True).allowed
    receive(app, inbound("SM2", "unstop"))
    assert state(app) == (SUB, False)


@pytest.mark.parametrize("word", DEFAULT_WORDS[Keyword.HELP])
def test_help_words_change_no_consent(app: EngageApplication, word: str) -> None:
    receive(app, inbound("SM1", word))
    assert state(app) is None
    receive(app, inbound("SM2", "STOP"))
    receive(app, inbound("SM3", f" {word.lower()} "))
    assert state(app) == (UNSUB, True)
    message = app.find_message(Channel.SMS, "SM3", "twilio")
    assert message is not None  # the message itself is recorded
    assert message.history[-1].details["Body"] == f" {word.lower()} "


_case_variants = st.sampled_from(
    [(kind, word) for kind in Keyword for word in DEFAULT_WORDS[kind]]
).flatmap(
    lambda pair: st.tuples(
        st.just(pair[0]),
        st.lists(st.booleans(), min_size=len(pair[1]), max_size=len(pair[1])).map(
            lambda upper: "".join(
                c.upper() if u else c.lower() for c, u in zip(pair[1], upper, strict=True)
            )
        ),
        st.text(" \t\n\r\u00a0\u2003", max_size=3),
        st.text(" \t\n\r\u00a0\u2003", max_size=3),
    )
)


@given(_case_variants)
def test_a_keyword_is_its_word_in_any_case_however_padded(
    variant: tuple[Keyword, str, str, str],
) -> None:
    kind, word, before, after = variant
    assert DEFAULT_KEYWORDS.reading(before + word + after) is kind
    assert DEFAULT_KEYWORDS.verdict(ProviderFacts(text=before + word + after)) is kind


@given(st.text(max_size=20))
def test_any_other_text_is_no_keyword(text: str) -> None:
    words = {normalised(w) for kind in Keyword for w in DEFAULT_WORDS[kind]}
    if normalised(text) not in words:
        assert DEFAULT_KEYWORDS.reading(text) is None
        assert DEFAULT_KEYWORDS.reading(f"please {text} STOP") is None


# Words a deployment adds

_word = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12)


@given(stop=st.lists(_word, max_size=3), start=st.lists(_word, max_size=3))
def test_added_words_count_and_the_defaults_stay(stop: list[str], start: list[str]) -> None:
    kinds: dict[str, set[Keyword]] = {}
    for kind, words in [*DEFAULT_WORDS.items(), (Keyword.STOP, stop), (Keyword.START, start)]:
        for word in words:
            kinds.setdefault(normalised(word), set()).add(kind)
    environ = {"ENGAGE_STOP_WORDS": ", ".join(stop) + ",", "ENGAGE_START_WORDS": ",".join(start)}
    try:
        keywords = Keywords.from_environment(environ)
    except ValueError as error:
        assert any(len(of) > 1 for of in kinds.values())  # refused only for a word of two kinds
        message = str(error)
        assert "\n" not in message
        assert message.startswith(tuple(ENVIRONMENT_VARIABLES.values()))
        assert "cannot be both" in message
        return
    assert all(len(of) == 1 for of in kinds.values())
    for word in stop:
        assert keywords.reading(f" {word.upper()} ") is Keyword.STOP
    for word in start:
        assert keywords.reading(word.lower()) is Keyword.START
    for kind in Keyword:
        for word in DEFAULT_WORDS[kind]:
            assert keywords.reading(word) is kind


def test_a_word_of_two_kinds_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match=r"^ENGAGE_START_WORDS: 'STOP' cannot be both"):
        Keywords.from_environment({"ENGAGE_START_WORDS": "stop"})
    with pytest.raises(ValueError, match="cannot be both"):
        Keywords.adding(stop=["arret"], help=["ARRET"])
    with pytest.raises(ValueError, match="empty word"):
        Keywords.adding(help=["  "])
    blank = Keywords.from_environment({"ENGAGE_HELP_WORDS": " , ,"})
    assert blank == DEFAULT_KEYWORDS


def test_an_added_word_locks_through_the_application(tmp_path: Path) -> None:
    class French(EngageApplication):
        policy_settings = PolicySettings.from_environment(
            {"ENGAGE_STOP_WORDS": "ARRÊT", "ENGAGE_START_WORDS": "commencer"}
        )

    app = French(env=sqlite_env(tmp_path / "fr.db"))
    receive(app, inbound("SM1", "arrêt"))
    assert state(app) == (UNSUB, True)
    receive(app, inbound("SM2", "Commencer"))
    assert state(app) == (SUB, False)
    plain = EngageApplication(env=sqlite_env(tmp_path / "plain.db"))
    receive(plain, inbound("SM1", "arrêt"))
    assert state(plain) is None


# Twilio's OptOutType: the provider's verdict wins over the text


@pytest.mark.parametrize(
    ("body", "opt_out_type", "expected"),
    [
        ("hello", "STOP", (UNSUB, True)),  # a custom opt-out word configured at Twilio
        ("Arrêtez", "stop", (UNSUB, True)),
        ("STOP", "HELP", None),  # Twilio read it as help: no consent change
        ("STOP", "START", (SUB, False)),
        ("STOP", "SOMETHING_NEW", (UNSUB, True)),  # a verdict we do not know: the text counts
        ("STOP", "", (UNSUB, True)),
    ],
)
def test_opt_out_type_decides_whatever_the_body_says(
    app: EngageApplication, body: str, opt_out_type: str, expected: Any
) -> None:
    receive(app, inbound("SM1", body, OptOutType=opt_out_type))
    assert state(app) == expected


_opt_out = st.sampled_from(["STOP", "START", "HELP"]).flatmap(
    lambda v: st.sampled_from([v, v.lower(), v.title(), f" {v} "])
)
_bodies = st.sampled_from(
    [w for kind in Keyword for w in DEFAULT_WORDS[kind]] + ["hello", "", "please stop"]
) | st.text(max_size=12)


@given(opt_out=_opt_out, body=_bodies, channel=st.sampled_from(["sms", "whatsapp"]))
def test_opt_out_type_wins_over_any_body(opt_out: str, body: str, channel: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        app = EngageApplication(env=sqlite_env(Path(directory) / "o.db"))
        try:
            receive(app, inbound("SM1", body, channel, OptOutType=opt_out))
            verdict = opt_out.strip().upper()
            if verdict == "STOP":
                assert state(app, channel) == (UNSUB, True)
            elif verdict == "HELP" or channel == "whatsapp":  # a START alone: no WhatsApp opt-in
                assert state(app, channel) is None
            else:
                assert state(app, channel) == (SUB, False)
            if verdict == "STOP":
                receive(app, inbound("SM2", "STOP", channel, OptOutType="START"))
                assert state(app, channel) == (SUB, False)  # unlocked, whatever the text
        finally:
            app.close()


# Tapped WhatsApp choices through Twilio


@pytest.mark.parametrize(
    "tap",
    [
        {"MessageType": "button", "ButtonText": "Yes", "ButtonPayload": "yes-1"},
        {"ButtonText": "START", "ButtonPayload": "start"},
        {"MessageType": "interactive", "ListId": "row-1", "ListTitle": "START"},
        {"MessageType": "interactive"},
    ],
)
def test_a_tapped_whatsapp_choice_is_no_keyword(
    app: EngageApplication, tap: dict[str, str]
) -> None:
    title = tap.get("ButtonText", tap.get("ListTitle", "Yes"))
    receive(app, inbound("SM1", title, "whatsapp", **tap))
    assert state(app, "whatsapp") is None
    receive(app, inbound("SM2", "stop", "whatsapp"))
    receive(app, inbound("SM3", title, "whatsapp", **tap))
    assert state(app, "whatsapp") == (UNSUB, True)  # a tapped START does not unlock
    receive(app, inbound("SM4", "start", "whatsapp"))  # the typed word does
    assert state(app, "whatsapp") == (SUB, False)
    whatsapp = app.channel_subscription(ContactKey.parse("whatsapp", NUMBER))
    assert whatsapp is not None
    assert [u.provenance.kind for u in whatsapp.updates] == [SourceKind.KEYWORD] * 2


def test_a_typed_whatsapp_start_is_no_opt_in(app: EngageApplication) -> None:
    receive(app, inbound("SM1", "YES", "whatsapp"))
    assert state(app, "whatsapp") is None
    assert not app.can_send(ContactKey.parse("whatsapp", NUMBER)).allowed
    receive(app, inbound("SM2", "YES"))  # on SMS a START word is an opt-in
    assert state(app) == (SUB, False)
