"""`X-Engage-Signature`: how a webhook receiver knows a batch came from this Engage and was not
replayed later. The scheme is Stripe's: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." +
the raw body>`, keyed by the shared secret. The timestamp is signed with the body, so a
captured request cannot be re-sent outside the tolerance window.

`verify_signature` uses only the standard library on purpose: receivers may copy it as is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Engage-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None
) -> bool:
    """True when `header` (the `X-Engage-Signature` value) signs these raw body bytes with
    `secret` and its timestamp is within `tolerance` seconds of now.

    Verify over the bytes as received, before parsing: re-serialised JSON differs. Several `v1=`
    entries may appear (during a secret rotation); any match is enough. Comparison is constant
    time.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():  # "²" is a digit, not a number
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if tolerance >= 0 and abs(current - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    # bytes, not str: compare_digest refuses non-ASCII text, and a forged header must get False
    return any(
        hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
        for candidate in candidates
    )
