"""Contact keys: one person's address or number is always the same key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage_core.channels import Channel
from engage_core.consent.contacts import (
    ContactKey,
    group_subscription_id,
    normalise_email,
    normalise_group_name,
    normalise_phone,
)
from engage_core.observations import InvalidInput


@pytest.mark.parametrize("raw", ["Test@Example.com", " test@example.COM ", "TEST@EXAMPLE.COM"])
def test_emails_are_lower_cased_and_trimmed(raw: str) -> None:
    assert normalise_email(raw) == "test@example.com"


@pytest.mark.parametrize(
    "raw", ["", "pgibbonsexample.com", "a@b", "a b@example.com", "a@@example.com",
            "a@example..com", "x" * 65 + "@example.com", None, 7],
)  # fmt: skip
def test_what_is_plainly_not_an_address_is_refused(raw: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_email(raw)
    assert raised.value.field == "email"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(213) 561-8345", "US", "+12135618345"),
        ("+1 213-561-8345", "US", "+12135618345"),
        ("whatsapp:+12135618345", "US", "+12135618345"),
        ("(123) 555-5555", "US", "+11235555555"),  # Segment's own example: possible, not valid
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
    ],
)
def test_phone_numbers_become_e164(raw: str, region: str, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "hello", "12", "+1 213 561 8345 9999 99", None])
def test_what_is_not_a_number_is_refused(raw: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_phone(raw)
    assert raised.value.field == "phone"


def test_channels_in_any_case_and_sms_and_whatsapp_are_separate() -> None:
    assert Channel.parse_consent("WhatsApp") is Channel.WHATSAPP
    sms = ContactKey.parse("sms", "(213) 561-8345")
    whatsapp = ContactKey.parse("WHATSAPP", "+12135618345")
    assert sms.key == whatsapp.key
    assert sms != whatsapp
    with pytest.raises(InvalidInput, match="unknown channel"):
        Channel.parse_consent("PIGEON")


@given(st.from_regex(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True))
def test_normalising_twice_changes_nothing(number: str) -> None:
    once = normalise_phone(number)
    assert normalise_phone(once) == once
    assert normalise_phone(f"whatsapp:{once}") == once


def test_group_names_as_segment_checks_them() -> None:
    assert normalise_group_name("marketing updates") == "marketing updates"
    for bad in [" leading", "trailing ", "a" * 76, "news_letter", "news-letter", "50% off", ""]:
        with pytest.raises(InvalidInput):
            normalise_group_name(bad)
    email = ContactKey.parse("email", "a@example.com")
    assert group_subscription_id(email, "news") != group_subscription_id(email, "News")
    with pytest.raises(InvalidInput, match="email addresses only"):
        group_subscription_id(ContactKey.parse("sms", "+12135618345"), "news")
