"""Signed links: any claims survive signing; any change to a token, a token from a secret not in
the list, a token for another purpose and an expired token are refused; rotation keeps old
links working while new ones are signed by the new secret; the RFC 8058 headers' exact form;
the settings and the application's link methods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage_core import EngageApplication, Send
from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.errors import InvalidInput
from engage_core.links import (
    DEFAULT_CONFIRM_EXPIRES_IN,
    DEFAULT_EXPIRES_IN,
    MAX_TOKEN_LENGTH,
    BadLink,
    LinkClaims,
    LinkPurpose,
    LinkSettings,
    LinkSigner,
    LinksNotConfigured,
    list_unsubscribe_headers,
    make_claims,
    parse_duration,
)
from engage_core.testing.strategies import contacts

NEW = "new-secret-0123456789abcdef"
OLD = "old-secret-0123456789abcdef"
STRANGER = "someone-elses-secret-0123456789"
BASE = "https://engage.example.com"
SIGNER = LinkSigner([NEW], BASE)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EXAMPLES = settings(max_examples=30, deadline=None)
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

_FORBIDDEN = "!@#$%^&*()_+-=[]{};':\"\\|,.<>/?"
group_names = st.text(
    st.characters(codec="utf-8", exclude_characters=_FORBIDDEN), min_size=1, max_size=75
).filter(lambda name: name.strip() == name)
message_ids = st.one_of(
    st.none(),
    st.uuids().map(str),
    st.text(min_size=1, max_size=128).filter(str.isprintable),
)


@st.composite
def claims(draw: st.DrawFn, purpose: LinkPurpose | None = None) -> LinkClaims:
    contact = draw(contacts())
    email = contact.channel is Channel.EMAIL
    return LinkClaims(
        purpose=purpose or draw(st.sampled_from(LinkPurpose)),
        channel=contact.channel,
        key=contact.key,
        group=draw(st.none() | group_names) if email else None,
        message_id=draw(message_ids),
        token_id=draw(st.from_regex(r"[A-Za-z0-9_\-]{1,64}", fullmatch=True)),
        expires_at=draw(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1),
                                     timezones=st.just(UTC))),
    )  # fmt: skip


def refused(signer: LinkSigner, token: str, purpose: LinkPurpose, now: datetime) -> str:
    with pytest.raises(BadLink) as raised:
        signer.claims(token, purpose, now=now)
    return raised.value.reason


# Properties


@EXAMPLES
@given(claims())
def test_any_claims_survive_signing_and_urls_name_their_page(made: LinkClaims) -> None:
    token = SIGNER.token(made)
    assert len(token) <= MAX_TOKEN_LENGTH
    assert SIGNER.claims(token, made.purpose, now=made.expires_at) == made
    assert (made.expires_at.microsecond, made.expires_at.tzinfo) == (0, UTC)
    if made.purpose is LinkPurpose.MANAGE:
        assert SIGNER.preferences_url(made) == f"{BASE}/preferences/{token}"
        assert SIGNER.unsubscribe_url(made) == f"{BASE}/unsubscribe/{token}"
    else:
        assert SIGNER.confirm_url(made) == f"{BASE}/confirm/{token}"


@EXAMPLES
@given(claims(), st.data())
def test_any_single_character_change_is_refused(made: LinkClaims, data: st.DataObject) -> None:
    token = SIGNER.token(made)
    at = data.draw(st.integers(0, len(token) - 1), label="position")
    other = data.draw(st.sampled_from(URL_SAFE) | st.characters(), label="character")
    changed = token[:at] + other + token[at + 1 :]
    if changed != token:
        assert refused(SIGNER, changed, made.purpose, made.expires_at) in {
            BadLink.FORGED, BadLink.MALFORMED, BadLink.WRONG_PURPOSE,
        }  # fmt: skip


@EXAMPLES
@given(claims())
def test_a_token_signed_by_a_secret_not_in_the_list_is_refused(made: LinkClaims) -> None:
    forged = LinkSigner([STRANGER], BASE).token(made)
    assert refused(LinkSigner([NEW, OLD], BASE), forged, made.purpose, NOW) == BadLink.FORGED


@EXAMPLES
@given(claims())
def test_after_rotation_old_links_verify_and_new_ones_are_signed_by_the_new_secret(
    made: LinkClaims,
) -> None:
    before, rotated = LinkSigner([OLD], BASE), LinkSigner(f"{NEW},{OLD}", BASE)
    assert rotated.claims(before.token(made), made.purpose, now=made.expires_at) == made
    fresh = rotated.token(made)
    assert LinkSigner([NEW], BASE).claims(fresh, made.purpose, now=made.expires_at) == made
    assert refused(before, fresh, made.purpose, made.expires_at) == BadLink.FORGED


@EXAMPLES
@given(claims())
def test_a_token_for_another_purpose_is_refused(made: LinkClaims) -> None:
    other = next(p for p in LinkPurpose if p is not made.purpose)
    assert refused(SIGNER, SIGNER.token(made), other, NOW) == BadLink.WRONG_PURPOSE


@EXAMPLES
@given(claims(), st.timedeltas(timedelta(microseconds=1), timedelta(days=4000)))
def test_expired_after_expires_at_and_valid_at_it(made: LinkClaims, late: timedelta) -> None:
    token = SIGNER.token(made)
    assert SIGNER.claims(token, made.purpose, now=made.expires_at) == made
    assert refused(SIGNER, token, made.purpose, made.expires_at + late) == BadLink.EXPIRED


# Examples


def manage_claims(**overrides: object) -> LinkClaims:
    fields: dict[str, object] = {"expires_in": timedelta(days=1), "now": NOW, **overrides}
    return make_claims(LinkPurpose.MANAGE, ContactKey.parse("EMAIL", "Ana@Example.com"), **fields)  # type: ignore[arg-type]


def test_oversized_and_garbled_tokens_are_refused_before_decoding() -> None:
    assert refused(SIGNER, "a" * (MAX_TOKEN_LENGTH + 1), LinkPurpose.MANAGE, NOW) == "malformed"
    assert refused(SIGNER, "not a token!", LinkPurpose.MANAGE, NOW) == BadLink.FORGED
    assert refused(SIGNER, "", LinkPurpose.MANAGE, NOW) == BadLink.FORGED


def test_a_signed_payload_that_is_not_claims_is_malformed() -> None:
    serializer = SIGNER._serializers[LinkPurpose.MANAGE]
    for payload in ({"c": "q"}, [1], {"c": "e", "k": "a@b.co", "t": "x", "x": "soon"}):
        token = str(serializer.dumps(payload))
        assert refused(SIGNER, token, LinkPurpose.MANAGE, NOW) == BadLink.MALFORMED


def test_claims_are_made_compact_whole_seconds_and_with_a_fresh_token_id() -> None:
    made = manage_claims(now=NOW + timedelta(microseconds=999), group="News", message_id="m1")
    assert made.expires_at == NOW + timedelta(days=1)
    assert (made.key, made.group, made.message_id, made.contact) == (
        "ana@example.com", "News", "m1", ContactKey.parse("EMAIL", "ana@example.com"),
    )  # fmt: skip
    assert len(made.token_id) == 16
    assert manage_claims().token_id != made.token_id
    assert len(SIGNER.token(made)) < 250


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"group": "bad,name"}, "group"),
        ({"expires_in": timedelta(0)}, "expires_in"),
        ({"expires_in": timedelta(days=3651)}, "expires_in"),
        ({"message_id": "x" * 129}, "message_id"),
        ({"token_id": "has space"}, "token_id"),
    ],
)
def test_bad_claims_are_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        manage_claims(**overrides)
    assert raised.value.field == field


def test_groups_are_for_email_only_and_now_must_be_aware() -> None:
    sms = ContactKey.parse("SMS", "+12135550100")
    with pytest.raises(InvalidInput, match="email"):
        make_claims(LinkPurpose.MANAGE, sms, group="News", expires_in=DEFAULT_EXPIRES_IN, now=NOW)
    with pytest.raises(ValueError, match="aware"):
        manage_claims(now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        SIGNER.claims(SIGNER.token(manage_claims()), LinkPurpose.MANAGE, now=datetime(2026, 1, 1))


@pytest.mark.parametrize("secrets", [[], "", " , ", ["short-secret"], f"{NEW},", [NEW, "tiny"]])
def test_unusable_secrets_are_refused_naming_the_variable_not_the_secret(
    secrets: str | list[str],
) -> None:
    with pytest.raises(ValueError, match="ENGAGE_LINK_SECRET") as raised:
        LinkSigner(secrets, BASE)
    assert NEW not in str(raised.value)
    assert "short-secret" not in str(raised.value)


def test_no_secret_in_a_repr() -> None:
    signer = LinkSigner([NEW, OLD], BASE)
    found = LinkSettings(secrets=f"{NEW},{OLD}", base_url=BASE)
    for shown in (repr(signer), repr(found), str(found)):
        assert NEW not in shown
        assert OLD not in shown
    assert repr(signer) == f"LinkSigner(base_url={BASE!r}, secrets=<2 hidden>)"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://engage.example.com/", "https://engage.example.com"),
        (" https://engage.example.com/prefix/ ", "https://engage.example.com/prefix"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
    ],
)
def test_the_base_url_is_https_or_local(base: str, expected: str) -> None:
    assert LinkSigner([NEW], base).base_url == expected


@pytest.mark.parametrize(
    "base",
    ["http://engage.example.com", "ftp://x.example", "https://", "https://e.example/?a=1",
     "https://u:p@e.example", "https://e.example:port", "engage.example.com", ""],
)  # fmt: skip
def test_other_base_urls_are_refused_naming_the_variable(base: str) -> None:
    with pytest.raises(ValueError, match="ENGAGE_PUBLIC_URL"):
        LinkSigner([NEW], base)


def test_the_list_unsubscribe_headers_exact_form() -> None:
    url = f"{BASE}/unsubscribe/TOKEN.sig"
    assert list_unsubscribe_headers(url) == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    both = list_unsubscribe_headers(url, "unsubscribe@example.com")
    assert both["List-Unsubscribe"] == f"<{url}>, <mailto:unsubscribe@example.com>"
    given = list_unsubscribe_headers(url, "mailto:u@example.com?subject=unsubscribe")
    assert given["List-Unsubscribe"] == f"<{url}>, <mailto:u@example.com?subject=unsubscribe>"


@pytest.mark.parametrize(
    ("url", "mailto"),
    [("http://engage.example.com/unsubscribe/T", None), (f"{BASE}/u/T>, <https://evil", None),
     (f"{BASE}/u/T\r\nBcc: x@y.z", None), (f"{BASE}/u/T", "a@b.co>"), (f"{BASE}/u/T", "a b")],
)  # fmt: skip
def test_headers_refuse_plain_http_and_anything_that_would_break_the_header(
    url: str, mailto: str | None
) -> None:
    with pytest.raises(ValueError, match=r"https|spaces"):
        list_unsubscribe_headers(url, mailto)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("90m", timedelta(minutes=90)),
     (" 2W ", timedelta(weeks=2)), ("3600s", timedelta(hours=1)), ("3650d", timedelta(days=3650))],
)  # fmt: skip
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1.5d", "30 days", "3651d", "9" * 12])
def test_bad_durations_name_the_setting(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_duration(text, "--expires")
    assert raised.value.field == "--expires"


def test_settings_from_an_environment() -> None:
    env = {"ENGAGE_LINK_SECRET": f" {NEW} , {OLD} ", "ENGAGE_PUBLIC_URL": f"{BASE}/"}
    found = LinkSettings.from_environment(env)
    assert found == LinkSettings(secrets=(NEW, OLD), base_url=BASE, expires_in=DEFAULT_EXPIRES_IN)
    longer = LinkSettings.from_environment({**env, "ENGAGE_LINK_EXPIRES": "90d"})
    signer = longer.signer()
    assert (signer.expires_in, signer.confirm_expires_in, signer.base_url) == (
        timedelta(days=90), DEFAULT_CONFIRM_EXPIRES_IN, BASE,
    )  # fmt: skip
    made = manage_claims()
    assert (
        refused(LinkSigner([OLD], BASE), signer.token(made), made.purpose, NOW)
        == "forged or tampered"
    )


@pytest.mark.parametrize(
    ("change", "variable"),
    [({"ENGAGE_LINK_SECRET": ""}, "ENGAGE_LINK_SECRET"),
     ({"ENGAGE_LINK_SECRET": "tooshort"}, "ENGAGE_LINK_SECRET"),
     ({"ENGAGE_PUBLIC_URL": " "}, "ENGAGE_PUBLIC_URL"),
     ({"ENGAGE_PUBLIC_URL": "http://engage.example.com"}, "ENGAGE_PUBLIC_URL"),
     ({"ENGAGE_LINK_EXPIRES": "forever"}, "ENGAGE_LINK_EXPIRES")],
)  # fmt: skip
def test_unusable_settings_name_their_variable(change: dict[str, str], variable: str) -> None:
    env = {"ENGAGE_LINK_SECRET": NEW, "ENGAGE_PUBLIC_URL": BASE, **change}
    with pytest.raises(ValueError, match=variable) as raised:
        LinkSettings.from_environment(env)
    assert "tooshort" not in str(raised.value)


# The application's link methods


@pytest.fixture
def app() -> EngageApplication:
    made = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: NOW)
    made.links = LinkSigner([NEW], BASE)
    return made


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_without_a_signer_every_link_method_says_what_to_set() -> None:
    bare = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    email = ContactKey.parse("EMAIL", "a@b.co")
    for ask in (bare.preference_link, bare.unsubscribe_link, bare.confirmation_link,
                bare.list_unsubscribe_headers):  # fmt: skip
        with pytest.raises(LookupError, match=r"ENGAGE_LINK_SECRET.*ENGAGE_PUBLIC_URL"):
            ask(email)
    with pytest.raises(LinksNotConfigured):
        bare.link_claims("x", LinkPurpose.MANAGE)


def test_links_are_made_and_read_at_the_applications_time(app: EngageApplication) -> None:
    email = ContactKey.parse("EMAIL", "a@b.co")
    preferences = app.preference_link(email, group="News", message_id=uuid4())
    unsubscribe = app.unsubscribe_link(email, expires_in=timedelta(hours=1))
    confirm = app.confirmation_link(ContactKey.parse("SMS", "+12135550100"))
    assert preferences.startswith(f"{BASE}/preferences/")
    assert unsubscribe.startswith(f"{BASE}/unsubscribe/")
    assert confirm.startswith(f"{BASE}/confirm/")
    read = app.link_claims(token_of(preferences), LinkPurpose.MANAGE)
    assert (read.contact, read.group, read.expires_at) == (email, "News", NOW + DEFAULT_EXPIRES_IN)
    short = app.link_claims(token_of(unsubscribe), LinkPurpose.MANAGE)
    assert short.expires_at == NOW + timedelta(hours=1)
    confirmed = app.link_claims(token_of(confirm), LinkPurpose.CONFIRM)
    assert confirmed.expires_at == NOW + DEFAULT_CONFIRM_EXPIRES_IN
    later = NOW + DEFAULT_CONFIRM_EXPIRES_IN + timedelta(seconds=1)
    with pytest.raises(BadLink, match="expired"):
        app.link_claims(token_of(confirm), LinkPurpose.CONFIRM, now=later)


def test_headers_for_a_recorded_email_name_its_recipient_and_message(
    app: EngageApplication,
) -> None:
    send = Send.create("email", "sendgrid", "sg-1", to="Ana@Example.com")
    message = app.record_send(send)
    for given_ in (message, message.state, send):
        headers = app.list_unsubscribe_headers(given_, group="News", mailto="u@example.com")
        url = headers["List-Unsubscribe"].split(">")[0][1:]
        assert headers["List-Unsubscribe"] == f"<{url}>, <mailto:u@example.com>"
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        read = app.link_claims(token_of(url), LinkPurpose.MANAGE)
        assert (read.key, read.group, read.message_id) == (
            "ana@example.com",
            "News",
            str(message.id),
        )
    ahead = app.list_unsubscribe_headers(ContactKey.parse("EMAIL", "b@example.com"))
    read = app.link_claims(token_of(ahead["List-Unsubscribe"][1:-1]), LinkPurpose.MANAGE)
    assert (read.key, read.message_id, read.group) == ("b@example.com", None, None)


def test_headers_are_for_email_with_a_recipient(app: EngageApplication) -> None:
    sms = app.record_send(Send.create("sms", "twilio", "SM1", to="+12135550100"))
    with pytest.raises(InvalidInput, match="email only"):
        app.list_unsubscribe_headers(sms)
    nobody = app.record_send(Send.create("email", "sendgrid", "sg-2"))
    with pytest.raises(InvalidInput, match="no recipient"):
        app.list_unsubscribe_headers(nobody)
    with pytest.raises(InvalidInput, match="email only"):
        app.list_unsubscribe_headers(ContactKey.parse("SMS", "+12135550100"))


def test_a_public_url_a_header_cannot_carry_is_refused_naming_the_variable() -> None:
    from engage_core.links import LinkSigner

    for url in ("https://engage.example.com/a b", "https://engage.example.com/a,b",
                'https://engage.example.com/"x"', "https://engage.example.com/<x>"):  # fmt: skip
        with pytest.raises(ValueError, match="ENGAGE_PUBLIC_URL"):
            LinkSigner(["s" * 20], url)
