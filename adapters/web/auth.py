"""Who may call what: Segment's write-key Basic auth for the Tracking API, Bearer tokens for
`/api/` and the Public API.

Each credential is a list (a secret being rotated: the old and the new both work until the old
is dropped from the setting), compared in constant time. An empty list refuses every request:
a service nobody configured a key for is closed, not open. A refusal is 401 with a JSON reason
and a `WWW-Authenticate` challenge; it never echoes what was sent.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping, Sequence

from adapters.web.answers import Answer, refusal_answer

__all__ = ["bearer_refusal", "write_key_refusal"]

REFUSED = "credentials refused"  # the `error` of every refusal here (not a signature's)


def _refused(reason: str, challenge: tuple[str, str]) -> Answer:
    return refusal_answer(401, reason, challenge, error=REFUSED)


def _matches(given: str, accepted: Sequence[str]) -> bool:
    presented = given.encode("utf-8", "surrogateescape")
    found = False
    for secret in accepted:  # every secret compared, so timing says nothing of which matched
        found |= hmac.compare_digest(presented, secret.encode("utf-8"))
    return found


def bearer_refusal(headers: Mapping[str, str], tokens: Sequence[str]) -> Answer | None:
    """None when `Authorization: Bearer <token>` names one of `tokens`; else the 401."""
    challenge = ("www-authenticate", 'Bearer realm="engage"')
    if not tokens:
        return _refused("no API token is configured (ENGAGE_API_TOKEN)", challenge)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _refused("expected Authorization: Bearer <token>", challenge)
    if not _matches(token.strip(), tokens):
        return _refused("the token is not accepted", challenge)
    return None


def write_key_refusal(headers: Mapping[str, str], keys: Sequence[str]) -> Answer | None:
    """None when `Authorization: Basic base64(<write key>:)` names one of `keys` (as Segment's
    clients send it: the key is the user name, the password empty); else the 401."""
    challenge = ("www-authenticate", 'Basic realm="engage"')
    if not keys:
        return _refused("no write key is configured (ENGAGE_WRITE_KEY)", challenge)
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return _refused("expected Basic auth with the write key", challenge)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return _refused("the Basic credentials are not base64 of UTF-8", challenge)
    key = decoded.partition(":")[0]
    if not key or not _matches(key, keys):
        return _refused("the write key is not accepted", challenge)
    return None
