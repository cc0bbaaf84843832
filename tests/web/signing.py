"""Requests signed as the providers sign them: Twilio's own `RequestValidator`, SendGrid's
scheme with a P-256 key (`tests.providers.test_sendgrid`), Meta's HMAC-SHA256
(`tests.providers.test_meta`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from adapters.providers.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.providers.test_meta import SECRET as META_SECRET
from tests.providers.test_meta import envelope, status
from tests.providers.test_meta import signature as meta_signature
from tests.providers.test_sendgrid import OTHER_KEY, PRIVATE_KEY, public_key_text, sign, stamp

__all__ = [
    "ENVIRON", "FORM", "META_SECRET", "OLD_META_SECRET", "OLD_TWILIO_TOKEN", "TWILIO_TOKEN",
    "VERIFY_TOKEN", "Signed", "meta", "meta_signature", "sendgrid", "sendgrid_event", "twilio",
    "twilio_params",
]  # fmt: skip

TWILIO_TOKEN = "12345678901234567890123456789012"
OLD_TWILIO_TOKEN = "abcdefabcdefabcdefabcdefabcdef12"
OLD_META_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY_TOKEN = "meta-verify-token-7"
FORM = "application/x-www-form-urlencoded"

# The secrets as the service reads them: the current one first, the old one still accepted.
ENVIRON = {
    "ENGAGE_TWILIO_AUTH_TOKEN": f"{TWILIO_TOKEN},{OLD_TWILIO_TOKEN}",
    "ENGAGE_SENDGRID_PUBLIC_KEY": f"{public_key_text(PRIVATE_KEY)}, {public_key_text(OTHER_KEY)}",
    "ENGAGE_META_APP_SECRET": f"{META_SECRET},{OLD_META_SECRET}",
    "ENGAGE_META_VERIFY_TOKEN": VERIFY_TOKEN,
}

Signed = tuple[bytes, dict[str, str]]


def twilio_params(sid: str, status_word: str = "delivered") -> dict[str, str]:
    return {"MessageSid": sid, "MessageStatus": status_word, "From": "+15005550006",
            "To": "+12135618345", "AccountSid": "AC1", "ApiVersion": "2010-04-01"}  # fmt: skip


def twilio(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> Signed:
    """A form-encoded callback signed by Twilio's own validator over `url`."""
    signature = RequestValidator(token).compute_signature(url, params)
    return urlencode(params).encode(), {"Content-Type": FORM, "X-Twilio-Signature": signature}


def sendgrid_event(message: str, n: int = 0, kind: str = "delivered") -> dict[str, Any]:
    return {"email": f"user{n}@example.com", "timestamp": int(datetime.now(UTC).timestamp()),
            "event": kind, "sg_event_id": f"ev-{message}-{n}-{kind}",
            "sg_message_id": f"{message}.filter0001.16648.5515E0B88.0"}  # fmt: skip


def sendgrid(events: object, key: ec.EllipticCurvePrivateKey = PRIVATE_KEY) -> Signed:
    """A batch (any JSON) signed over a timestamp of now (the service checks the window against the
    time the request arrives)."""
    body = orjson.dumps(events)
    timestamp = stamp(datetime.now(UTC))
    signature = sign(body, timestamp, key)
    return body, {"Content-Type": "application/json",
                  SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: timestamp}  # fmt: skip


def meta(wamid: str, word: str = "delivered", secret: str = META_SECRET) -> Signed:
    body = envelope(statuses=[status(wamid, word, 1750263790)])
    return body, {"Content-Type": "application/json",
                  "X-Hub-Signature-256": meta_signature(body, secret)}  # fmt: skip
