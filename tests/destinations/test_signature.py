"""`X-Engage-Signature`: what a receiver checks, and what it refuses."""

from __future__ import annotations

import hashlib
import hmac

from adapters.destinations.signature import sign, verify_signature

BODY = b'{"batch":[{"messageId":"m1"}]}'
NOW = 1_780_000_000


def test_a_signature_verifies_over_the_raw_body() -> None:
    header = sign("s3cret", BODY, NOW)
    assert header.startswith(f"t={NOW},v1=")
    assert verify_signature("s3cret", header, BODY, now=NOW + 10)


def test_it_is_stripes_scheme() -> None:
    expected = hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign("s3cret", BODY, NOW) == f"t={NOW},v1={expected}"


def test_refused_wrong_secret_body_or_time() -> None:
    header = sign("s3cret", BODY, NOW)
    assert not verify_signature("other", header, BODY, now=NOW)
    assert not verify_signature("s3cret", header, BODY + b" ", now=NOW)
    assert not verify_signature("s3cret", header, BODY, now=NOW + 301)
    assert not verify_signature("s3cret", header, BODY, now=NOW - 301)
    assert verify_signature("s3cret", header, BODY, tolerance=-1, now=NOW + 10**6)


def test_malformed_headers_are_refused() -> None:
    for header in ["", "t=,v1=", f"t={NOW}", "v1=abc", f"t=x{NOW},v1=ab", "garbage"]:
        assert not verify_signature("s3cret", header, BODY, now=NOW)


def test_any_of_several_signatures_during_a_rotation() -> None:
    old = sign("old", BODY, NOW).split(",")[1]
    new = sign("new", BODY, NOW)
    assert verify_signature("new", f"{new},{old}", BODY, now=NOW)
    assert verify_signature("old", f"{new},{old}", BODY, now=NOW)


def test_forged_headers_are_false_not_errors() -> None:
    """A receiver answers a forged header 401, never 500: no input makes it raise."""
    from adapters.destinations.signature import verify_signature

    for header in ("t=²,v1=ab", "t=1767225600,v1=é", "v1=,t=", "", "t=1,v1=" + "é" * 64):
        assert verify_signature("whsec_example", header, b"{}", now=1767225600) is False
