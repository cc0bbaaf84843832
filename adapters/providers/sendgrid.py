"""SendGrid's Event Webhook: a signed JSON array of email events, mapped to observations.

SendGrid posts batches of events (`processed`, `delivered`, `open`, …) as one JSON array and,
with the Signed Event Webhook on, signs `timestamp + raw body` with ECDSA (P-256, SHA-256). The
adapter checks that signature with the public key SendGrid shows (a base64 DER key), refuses
timestamps outside a window (SendGrid's own helper has none, so a captured request could be
replayed forever), and maps each event to an `Observation`, plus a `Send` record when the event
carries the sender's custom args, which is how a report finds the send it belongs to.

Messages are keyed by the part of `sg_message_id` before SendGrid's routing suffix (the
`X-Message-Id` the Mail Send API answered with), so the sender's record and every event of the
message land on one aggregate. Each event is deduplicated by `sg_event_id` and, always, by a
composite key: `sg_event_id` is missing on some events and has been seen to change on retries.

This module checks requests and walks the batch; `sendgrid_events` maps one event. See
docs/providers.md (SendGrid) for the setup and the full mapping.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.providers.base import (
    Headers,
    InboundRequest,
    Parsed,
    QuarantinedElement,
    SignatureRefused,
    require_json,
)
from adapters.providers.sendgrid_events import (
    MAX_TIMESTAMP_DIGITS,
    PROVIDER,
    STATUSES,
    Batch,
    EventUnusable,
    load_array,
    map_event,
    raw_event,
)
from engage_core import InvalidInput, Observation, Send
from engage_core.observations import canonical_details

__all__ = [
    "DEFAULT_MAX_AGE",
    "PROVIDER",
    "PUBLIC_KEY_VARIABLE",
    "SIGNATURE_HEADER",
    "STATUSES",
    "TIMESTAMP_HEADER",
    "SendGridAdapter",
    "load_public_key",
]

PUBLIC_KEY_VARIABLE: Final = "ENGAGE_SENDGRID_PUBLIC_KEY"
SIGNATURE_HEADER: Final = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER: Final = "X-Twilio-Email-Event-Webhook-Timestamp"
DEFAULT_MAX_AGE: Final = timedelta(minutes=10)


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The verification key as SendGrid shows it (base64 DER SubjectPublicKeyInfo, no PEM
    lines) or as PEM. A key that cannot be read raises `ValueError` naming the variable, so a
    misconfigured service fails when it starts rather than refusing every request."""
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(stripped.encode())
        else:
            der = base64.b64decode("".join(stripped.split()), validate=True)
            key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ValueError(
            f"{PUBLIC_KEY_VARIABLE}: not a public key as SendGrid shows it "
            f"(base64 DER, or PEM): {error}"
        ) from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        got = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else type(key).__name__
        raise ValueError(
            f"{PUBLIC_KEY_VARIABLE}: SendGrid signs with ECDSA on P-256, so a P-256 key is "
            f"needed (got {got})"
        )
    return key


class SendGridAdapter:
    """The SendGrid Event Webhook: `verify` checks the Signed Event Webhook's signature and
    freshness; `parse` maps the batch, quarantining single bad events."""

    name = PROVIDER

    def __init__(self, public_key: str | None, *, max_age: timedelta = DEFAULT_MAX_AGE) -> None:
        if max_age <= timedelta(0):
            raise ValueError(f"max_age must be positive (got {max_age})")
        self.max_age = max_age
        self._key = load_public_key(public_key) if public_key and public_key.strip() else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SendGridAdapter:
        """The adapter with the key from `ENGAGE_SENDGRID_PUBLIC_KEY` (unset or empty: none,
        and every request is refused saying so)."""
        environ = os.environ if environ is None else environ
        return cls(environ.get(PUBLIC_KEY_VARIABLE) or None)

    # Verification

    def verify(self, request: InboundRequest, *, now: datetime | None = None) -> None:
        """Refuse (`SignatureRefused`) unless the request is signed by SendGrid's key over
        `timestamp + body` as received, with a timestamp within `max_age` of `now` (by default
        when the request arrived) in either direction."""
        key = self._key
        if key is None:
            raise SignatureRefused(
                f"no SendGrid verification key configured: set {PUBLIC_KEY_VARIABLE} to the "
                "public key shown for the Signed Event Webhook"
            )
        signature = _required_header(request.headers, SIGNATURE_HEADER)
        timestamp = _required_header(request.headers, TIMESTAMP_HEADER)
        self._check_fresh(timestamp, now if now is not None else request.received_at)
        try:
            key.verify(
                _decode_signature(signature),
                timestamp.encode() + request.body,
                ec.ECDSA(hashes.SHA256()),
            )
        except (InvalidSignature, ValueError):
            raise SignatureRefused(
                f"{SIGNATURE_HEADER} does not match the body and timestamp for the configured key"
            ) from None

    def _check_fresh(self, timestamp: str, now: datetime) -> None:
        """A signed request can be captured and posted again; the window bounds how long."""
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise SignatureRefused(f"{TIMESTAMP_HEADER} is not Unix seconds ({timestamp[:40]!r})")
        if len(timestamp) > MAX_TIMESTAMP_DIGITS:
            raise SignatureRefused(f"{TIMESTAMP_HEADER} is out of range ({timestamp[:40]!r})")
        reference = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        skew = reference.timestamp() - int(timestamp)
        if abs(skew) > self.max_age.total_seconds():
            direction = "old" if skew > 0 else "in the future"
            raise SignatureRefused(
                f"{TIMESTAMP_HEADER} is {abs(skew):.0f} s {direction}; "
                f"accepted within {self.max_age.total_seconds():.0f} s"
            )

    # Parsing

    def parse(self, request: InboundRequest) -> Parsed:
        """The batch's observations (and send records), in the order received; an event that
        cannot be mapped is quarantined alone with its reason. `BodyRefused` when the body is
        not a JSON array."""
        require_json(request.headers, "SendGrid")
        events = load_array(request.body)
        # the details of every event made canonical in one pass (None: each on its own)
        canonical = canonical_details(events) or [None] * len(events)
        inputs: list[Observation | Send] = []
        quarantined: list[QuarantinedElement] = []
        batch = Batch()
        for index, (event, plain) in enumerate(zip(events, canonical, strict=True)):
            try:
                observation, send = map_event(event, batch, plain)
            except (EventUnusable, InvalidInput) as error:
                quarantined.append(QuarantinedElement(index, raw_event(index, event), str(error)))
                continue
            if send is not None:  # first: the report's event then carries the user and campaign
                inputs.append(send)
            inputs.append(observation)
        return Parsed(received=len(events), inputs=tuple(inputs), quarantined=tuple(quarantined))


def _required_header(headers: Headers, name: str) -> str:
    value = headers.get(name)
    if not value:
        raise SignatureRefused(f"missing {name} header (is the Signed Event Webhook enabled?)")
    return value


def _decode_signature(signature: str) -> bytes:
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise SignatureRefused(f"{SIGNATURE_HEADER} is not base64") from None
