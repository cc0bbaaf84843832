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

See docs/providers.md (SendGrid) for the setup and the full mapping.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.providers.base import (
    BodyRefused,
    Headers,
    InboundRequest,
    Parsed,
    QuarantinedElement,
    SignatureRefused,
    require_json,
)
from engage_core import Channel, InvalidInput, Observation, Send
from engage_core.observations import ProviderFacts

PROVIDER: Final = "sendgrid"
PUBLIC_KEY_VARIABLE: Final = "ENGAGE_SENDGRID_PUBLIC_KEY"
SIGNATURE_HEADER: Final = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER: Final = "X-Twilio-Email-Event-Webhook-Timestamp"
DEFAULT_MAX_AGE: Final = timedelta(minutes=10)

# SendGrid's event names and the status or engagement each is on the email lifecycle
# (`open` with `sg_machine_open: true` becomes `machine_open`, see `_status`).
STATUSES: Final[Mapping[str, str]] = {
    "processed": "processed",
    "dropped": "dropped",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounce": "bounced",  # `type` "bounce" or "blocked": both bounced, `type` kept in details
    "open": "open",
    "click": "click",
    "spamreport": "spamreport",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "group_unsubscribe",
    "group_resubscribe": "group_resubscribe",
}
_GROUP_EVENTS: Final = frozenset({"group_unsubscribe", "group_resubscribe"})

# The sender's custom args (merged into each event at top level) that fill a `Send` field of the
# same name; Marketing Campaigns sends carry their campaign under names of their own.
_SEND_FIELDS: Final = (
    "user_id",
    "campaign_id",
    "campaign_name",
    "journey_id",
    "template_id",
    "email_subject",
)
_FALLBACKS: Final[Mapping[str, str]] = {
    "campaign_id": "marketing_campaign_id",
    "campaign_name": "marketing_campaign_name",
}
# Any of these on an event links it to the send: it then also yields a `Send` record.
_KEYED_FIELDS: Final = (*_SEND_FIELDS, *_FALLBACKS.values())
_LINK_FIELDS: Final = ("engage_message_id", *_KEYED_FIELDS)

# SendGrid appends a routing suffix to the Mail Send API's `X-Message-Id`:
# `14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0`, `5lFl7Fr1Rjme_EyzNNB_5A.stfilter-015…`,
# `A6FilwaAR_Wm_VTCEFql_w.filterdrecv-…`, and in newer events `0GOQ6fMTTmiZpLh7usBJwg.recvd-…`.
# The id before it is the one the sender recorded; an id with no suffix is taken whole.
_ROUTING_SUFFIX: Final = re.compile(r"\.(?=[a-z]*filter|recvd-)")

# Unix seconds fit in 11 digits until the year 5138; a longer text is not a timestamp, and
# bounding it keeps int() and float arithmetic away from huge numbers.
_MAX_TIMESTAMP_DIGITS: Final = 12


class _Unusable(Exception):
    """One event that cannot be mapped; its message is the quarantine reason."""


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
        if len(timestamp) > _MAX_TIMESTAMP_DIGITS:
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
        events = _load_array(request.body)
        inputs: list[Observation | Send] = []
        quarantined: list[QuarantinedElement] = []
        sends: set[tuple[Any, ...]] = set()
        for index, event in enumerate(events):
            try:
                observation, send = _map_event(event, sends)
            except (_Unusable, InvalidInput) as error:
                quarantined.append(QuarantinedElement(index, _raw(index, event), str(error)))
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


def _load_array(body: bytes) -> list[Any]:
    try:
        events = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyRefused("body is not UTF-8") from None
        raise BodyRefused(f"body is not JSON ({error})") from None
    if not isinstance(events, list):
        raise BodyRefused(f"body is a JSON {_json_type(events)}; SendGrid posts an array of events")
    return events


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "null")


def _raw(index: int, event: object) -> bytes:
    """The quarantined event's JSON. An event nested too deeply to re-encode is no SendGrid
    event at all (theirs are flat): the whole body is refused rather than kept unreadable."""
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError as error:
        raise BodyRefused(f"event {index} cannot be stored ({error}); events are flat") from None


# Mapping one event


def _map_event(event: object, sends: set[tuple[Any, ...]]) -> tuple[Observation, Send | None]:
    """One event's observation, and its send record when it carries custom args and an equal
    record was not already taken from this batch (`sends` remembers them: the core would only
    count the repeats as duplicates)."""
    if not isinstance(event, dict):
        raise _Unusable(f"an event is a JSON object (got a {_json_type(event)})")
    name = _event_name(event)
    full_id = _text(event, "sg_message_id", _MISSING_MESSAGE_ID)
    email = _text(event, "email", "missing email")
    provider_message_id = _provider_message_id(full_id)
    occurred_at = _timestamp(event)
    details = _details(name, event)
    observation = Observation(
        channel=Channel.EMAIL,
        provider=PROVIDER,
        provider_message_id=provider_message_id,
        status=_status(name, event),
        occurred_at=occurred_at,
        event_id=_event_id(event),
        details=details,
        provider_keys=(_composite_key(full_id, name, event),),
        facts=_facts(name, email, details),
    )
    # SendGrid's `processed` is when it took the message: the send record's sent_at, so the
    # Email Processed published from that record carries the provider's time
    sent_at = occurred_at if name == "processed" else None
    return observation, _send(event, provider_message_id, email, sends, sent_at)


_MISSING_MESSAGE_ID: Final = (
    "missing sg_message_id: SendGrid could not match this event to a message (it leaves the id "
    "out of asynchronous bounces and legacy marketing unsubscribes)"
)


def _event_name(event: Mapping[str, Any]) -> str:
    value = event.get("event")
    if value is None:
        raise _Unusable("missing event")
    name = value.strip().lower() if isinstance(value, str) else ""
    if name not in STATUSES:
        raise _Unusable(f"unknown event {value!r}; known: {', '.join(STATUSES)}")
    return name


def _text(event: Mapping[str, Any], field: str, missing: str) -> str:
    value = event.get(field)
    if value is None or value == "":
        raise _Unusable(missing)
    if not isinstance(value, str) or not value.strip():
        raise _Unusable(f"{field} is not a non-blank string ({value!r})")
    return value


def _provider_message_id(sg_message_id: str) -> str:
    """The id the sender knows (Mail Send's `X-Message-Id`): `sg_message_id` before SendGrid's
    routing suffix."""
    suffix = _ROUTING_SUFFIX.search(sg_message_id)
    prefix = sg_message_id[: suffix.start()] if suffix else sg_message_id
    if not prefix:
        raise _Unusable(f"sg_message_id {sg_message_id[:60]!r} has no message id before its suffix")
    return prefix


def _status(name: str, event: Mapping[str, Any]) -> str:
    if name == "open" and event.get("sg_machine_open") is True:
        return "machine_open"
    return STATUSES[name]


def _timestamp(event: Mapping[str, Any]) -> int | float:
    """Unix seconds; a string of digits too (SendGrid's own legacy example sends one)."""
    value = event.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= _MAX_TIMESTAMP_DIGITS
    ):
        return int(value)
    raise _Unusable(f"timestamp: Unix seconds required (got {value!r})")


def _event_id(event: Mapping[str, Any]) -> str | None:
    value = event.get("sg_event_id")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Unusable(f"sg_event_id is not a string ({value!r})")
    return value


def _details(name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Every field of the event; for group events also `group`, the group's name as the
    consent policy reads it (SendGrid names groups by number, `asm_group_id`). A group event
    without a group is quarantined: a custom arg called `group` must not stand in for it."""
    if name not in _GROUP_EVENTS:
        return event
    group = event.get("asm_group_id")
    if isinstance(group, str) and group.isascii() and group.isdigit():
        group = int(group)
    if not isinstance(group, int) or isinstance(group, bool):
        raise _Unusable(f"{name} without an integer asm_group_id (got {group!r})")
    return {**event, "group": str(group)}


def _facts(name: str, email: str, details: Mapping[str, Any]) -> ProviderFacts:
    """What the core reads of a SendGrid event: the address; a group event's group (its
    `asm_group_id`, as `_details` wrote it); a click's `url`; a bounce's `type`; the `reason`
    of a bounce, drop or deferral; a deferral's `attempt`."""
    url, reason, kind = details.get("url"), details.get("reason"), details.get("type")
    attempt = details.get("attempt")
    return ProviderFacts(
        contact=email.strip(),
        group=details["group"] if name in _GROUP_EVENTS else None,
        link_url=url if name == "click" and isinstance(url, str) else None,
        reason=reason if isinstance(reason, str) else None,
        bounce_type=kind if name == "bounce" and isinstance(kind, str) else None,
        attempt=attempt if isinstance(attempt, str | int) and attempt != "" else None,
    )


def _composite_key(sg_message_id: str, name: str, event: Mapping[str, Any]) -> str:
    """The event's identity without `sg_event_id`: message, event, time, and what was acted on
    (`url` for clicks, `asm_group_id` for group events; both when both are there, so two groups
    left from one preferences page in the same second stay two events)."""
    parts = (
        sg_message_id,
        name,
        event.get("timestamp"),
        event.get("url"),
        event.get("asm_group_id"),
    )
    return orjson.dumps(parts).decode()


def _send(
    event: Mapping[str, Any],
    provider_message_id: str,
    email: str,
    sends: set[tuple[Any, ...]],
    sent_at: Any = None,
) -> Send | None:
    """The sender's record this event's custom args describe, once per batch. (A batch of a
    thousand events carries the same args on each event of a message: the repeats are
    recognised by their raw values, before any work.)"""
    if not any(event.get(field) is not None for field in _LINK_FIELDS):
        return None
    raw = (provider_message_id, email, *map(event.get, _KEYED_FIELDS))
    try:
        # once per batch; again only to add the time a later `processed` brings
        if raw in sends and (sent_at is None or (*raw, "dated") in sends):
            return None
    except TypeError:  # an unhashable custom arg, refused just below
        pass
    values = {field: _link_value(event, field) for field in _KEYED_FIELDS}  # all checked,
    fields = {field: values[field] for field in _SEND_FIELDS}  # so `raw` is hashable below
    for field, fallback in _FALLBACKS.items():
        if fields[field] is None:
            fields[field] = values[fallback]
    send = Send(
        Channel.EMAIL, PROVIDER, provider_message_id, to=email.strip(), sent_at=sent_at, **fields
    )
    sends.add(raw)
    if sent_at is not None:
        sends.add((*raw, "dated"))
    return send


def _link_value(event: Mapping[str, Any], field: str) -> str | None:
    """A custom arg as text: SendGrid sends strings, Marketing Campaigns integer ids; blank is
    absent."""
    value = event.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Unusable(f"{field}: a custom arg is a string (got {value!r})")
