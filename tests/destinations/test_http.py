"""The HTTP helpers on their own: Retry-After read without ever raising, URL checks that never
quote the URL, and reasons redacted of credentials and query strings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.destinations import redact
from adapters.destinations.http import LONGEST_RETRY_AFTER, check_url, retry_after, where

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@given(st.text())
def test_retry_after_never_raises(value: str) -> None:
    seconds = retry_after(value, NOW)
    assert seconds is None or 0 <= seconds <= LONGEST_RETRY_AFTER


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits: isdigit(), not a delta-seconds
        ("-5", None),
        ("1.5", None),
        ("9" * 5000, LONGEST_RETRY_AFTER),  # int() refuses over 4300 digits
        ("Thu, 01 Jan 2026 00:00:20 GMT", 20.0),
        ("Wed, 31 Dec 2025 23:00:00 GMT", 0.0),  # past: now
        ("Fri, 01 Jan 9999 00:00:00 GMT", LONGEST_RETRY_AFTER),
        ("Mon, 99 Foo 99999 99:99:99 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    "url",
    [
        "https://h.example/a b?token=SECRET",
        "https://h.example/a\tb?token=SECRET",
        "https://h.example/x?token=SECRET\x07",
        "https://h.example/x?token=SECRET\u200b",  # zero-width space: format character
        "https://h.example/x?token=SECRET\u00a0",  # no-break space
        "https://h.example:99x/x?token=SECRET",
        "https://[::1/x?token=SECRET",
        "https://h.example/é?token=SECRET",
    ],
)
def test_unusable_urls_are_refused_without_quoting_them(url: str) -> None:
    problem = check_url(url)
    assert problem is not None
    assert "SECRET" not in problem
    assert "h.example" not in problem


def test_where_shows_scheme_and_host_only() -> None:
    assert where("https://h.example:8443/secret?token=x") == "https://h.example:8443"
    assert where("http://[::1]:9/x") == "http://[::1]:9"
    assert where("https://[::1/x") == "the configured URL"


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ('in URI: "postgresql://u:s3cret@[::1/db"', "postgresql://***@", "s3cret"),
        ("see https://u:p@ss@h.example/x?token=abc#f", "https://***@h.example/x", "abc"),
        ("URL can't contain control characters. '/a b?token=T0K'", "token=***", "T0K"),
        ("host=db password=hunter2 user=u", "password=*** user=u", "hunter2"),
    ],
)
def test_redact(text: str, kept: str, gone: str) -> None:
    redacted = redact(text)
    assert kept in redacted
    assert gone not in redacted
    assert redact("HTTP 502 from http://127.0.0.1:80: bad gateway") == (
        "HTTP 502 from http://127.0.0.1:80: bad gateway"
    )
    assert redact("line one\nline two") == "line one line two"
