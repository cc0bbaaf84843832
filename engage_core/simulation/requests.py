"""Raw provider requests, built and signed as Twilio, SendGrid and Meta send them.

Pure builders: each returns a `ProviderRequest` (the URL, the headers and the body's exact
bytes) that a test posts to a webhook endpoint or hands to `adapters.providers.ingest`. They
write the parameters the providers really send (docs/providers.md, and the captured payloads
in tests/providers/payloads/), in the providers' own order and encoding: Twilio's form bodies
(SMS and WhatsApp status callbacks, inbound messages), SendGrid's JSON arrays of events, Meta's
WhatsApp Cloud notifications with non-ASCII escaped as Meta escapes it before signing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import attrs
from cryptography.hazmat.primitives.asymmetric import ec

from engage_core.simulation.signing import sign_meta, sign_sendgrid, sign_twilio

__all__ = [
    "META_SIGNATURE_HEADER",
    "SENDGRID_SIGNATURE_HEADER",
    "SENDGRID_TIMESTAMP_HEADER",
    "TWILIO_IDEMPOTENCY_HEADER",
    "TWILIO_SIGNATURE_HEADER",
    "ProviderRequest",
    "meta_notification",
    "meta_status",
    "meta_text_message",
    "sendgrid_batch",
    "sendgrid_event",
    "twilio_callback",
    "twilio_inbound_params",
    "twilio_status_params",
]

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
TWILIO_IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
META_SIGNATURE_HEADER = "X-Hub-Signature-256"
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"
_API_VERSION = "2010-04-01"


@attrs.frozen
class ProviderRequest:
    """One webhook request as a provider sends it: `provider` (`twilio`, `sendgrid`, `meta`,
    as `engage ingest` names them), the full URL, the headers in order, the body's bytes."""

    provider: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value, its name in any case (as HTTP reads it)."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


# Twilio


def _twilio_address(number: str, whatsapp: bool) -> str:
    return f"whatsapp:{number}" if whatsapp else number


def twilio_status_params(
    *,
    sid: str,
    status: str,
    to: str,
    sender: str,
    account_sid: str,
    whatsapp: bool = False,
    error_code: str | None = None,
    raw_dlr_done_date: str | None = None,
) -> dict[str, str]:
    """A status callback's parameters in the order Twilio sends them: `ErrorCode` on a failure,
    `RawDlrDoneDate` (the carrier's YYMMDDhhmm) on an SMS's delivered or undelivered report,
    WhatsApp's `ChannelPrefix` and `ChannelToAddress` and `whatsapp:` addresses."""
    params: dict[str, str] = {}
    if error_code is not None:
        params["ErrorCode"] = error_code
    if whatsapp:
        params["EventType"] = status.upper()
    params.update({"SmsSid": sid, "SmsStatus": status, "MessageStatus": status})
    if whatsapp:
        params.update({"ChannelToAddress": to, "ChannelPrefix": "whatsapp"})
    params.update({
        "To": _twilio_address(to, whatsapp), "MessageSid": sid, "AccountSid": account_sid,
        "From": _twilio_address(sender, whatsapp), "ApiVersion": _API_VERSION,
    })  # fmt: skip
    if raw_dlr_done_date is not None:
        params["RawDlrDoneDate"] = raw_dlr_done_date
    return params


def twilio_inbound_params(
    *, sid: str, sender: str, to: str, body: str, account_sid: str, whatsapp: bool = False
) -> dict[str, str]:
    """An inbound message's parameters as Twilio posts them to the incoming-message webhook
    (`SmsStatus=received`, `Body`, `From`; WhatsApp's `WaId` and `ProfileName`; SMS's
    geographic fields, blank where the carrier knows none)."""
    params = {"SmsMessageSid": sid, "NumMedia": "0"}
    if whatsapp:
        params.update({"ProfileName": "Simulated User", "WaId": sender.lstrip("+")})
    else:
        params.update({"ToCountry": "US", "ToState": "CA", "ToCity": "", "FromCountry": "US"})
    params.update({
        "SmsSid": sid, "SmsStatus": "received", "Body": body,
        "To": _twilio_address(to, whatsapp), "NumSegments": "1", "MessageSid": sid,
        "AccountSid": account_sid, "From": _twilio_address(sender, whatsapp),
        "ApiVersion": _API_VERSION,
    })  # fmt: skip
    return params


def twilio_callback(
    url: str, params: Mapping[str, str], token: str, *, idempotency_token: str | None = None
) -> ProviderRequest:
    """A form-encoded Twilio request over `url`, signed with the Auth Token; Twilio's
    `I-Twilio-Idempotency-Token` when given (the same on each of Twilio's retries)."""
    headers = [("Content-Type", _FORM), (TWILIO_SIGNATURE_HEADER, sign_twilio(url, params, token))]
    if idempotency_token is not None:
        headers.append((TWILIO_IDEMPOTENCY_HEADER, idempotency_token))
    return ProviderRequest("twilio", url, tuple(headers), urlencode(params).encode("ascii"))


# SendGrid


def sendgrid_event(
    *,
    event: str,
    email: str,
    timestamp: int,
    sg_message_id: str,
    sg_event_id: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One event of SendGrid's Event Webhook, its fields in SendGrid's order: `email`,
    `timestamp`, `smtp-id`, `event`, `sg_event_id` (absent on some events), `sg_message_id`
    (the Mail Send API's `X-Message-Id` and a routing suffix), then what the event adds (`url`
    of a click, `asm_group_id`, `reason`, `type` of a bounce, custom args, …)."""
    message = sg_message_id.partition(".filter")[0]
    item: dict[str, Any] = {"email": email, "timestamp": timestamp,
                            "smtp-id": f"<{message}@ismtpd-555>", "event": event}  # fmt: skip
    if sg_event_id is not None:
        item["sg_event_id"] = sg_event_id
    item["sg_message_id"] = sg_message_id
    item.update(extra or {})
    return item


def sendgrid_batch(
    url: str,
    events: Sequence[Mapping[str, Any]],
    private_key: ec.EllipticCurvePrivateKey,
    timestamp: int,
) -> ProviderRequest:
    """A batch as SendGrid posts it (a JSON array), signed with the Signed Event Webhook's key
    over `timestamp` (Unix seconds: the receiver refuses it outside its freshness window)."""
    body = json.dumps(list(events), separators=(",", ":")).encode("utf-8")
    headers = (
        ("Content-Type", _JSON),
        (SENDGRID_SIGNATURE_HEADER, sign_sendgrid(body, private_key, timestamp)),
        (SENDGRID_TIMESTAMP_HEADER, str(timestamp)),
    )
    return ProviderRequest("sendgrid", url, headers, body)


# Meta


def meta_status(
    *, wamid: str, status: str, timestamp: int, recipient_id: str,
    errors: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:  # fmt: skip
    """One element of `statuses[]`: Meta writes the timestamp as a string of digits and the
    recipient without `+`; a failure carries `errors`."""
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(timestamp),
                            "recipient_id": recipient_id.lstrip("+")}  # fmt: skip
    if status in {"sent", "delivered"}:
        item["conversation"] = {"id": f"conv-{recipient_id.lstrip('+')}",
                                "origin": {"type": "marketing"}}  # fmt: skip
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "marketing"}
    if errors:
        item["errors"] = [dict(error) for error in errors]
    return item


def meta_text_message(*, wamid: str, sender: str, timestamp: int, text: str) -> dict[str, Any]:
    """One element of `messages[]`: a text a user typed (`from` without `+`)."""
    return {"from": sender.lstrip("+"), "id": wamid, "timestamp": str(timestamp),
            "type": "text", "text": {"body": text}}  # fmt: skip


def meta_notification(
    url: str,
    secret: str,
    *,
    statuses: Sequence[Mapping[str, Any]] = (),
    messages: Sequence[Mapping[str, Any]] = (),
    phone_number_id: str = "106540352242922",
    display_phone_number: str = "15550783881",
) -> ProviderRequest:
    """A `messages` notification of the WhatsApp Cloud API (one entry, one change), signed
    with the app secret over the bytes as sent (non-ASCII escaped, as Meta sends it)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number,
                     "phone_number_id": phone_number_id},
    }  # fmt: skip
    if messages:
        value["contacts"] = [
            {"profile": {"name": "Simulated User"}, "wa_id": str(message["from"])}
            for message in messages
        ]
        value["messages"] = [dict(message) for message in messages]
    if statuses:
        value["statuses"] = [dict(status) for status in statuses]
    entry = {"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}
    document = {"object": "whatsapp_business_account", "entry": [entry]}
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    headers = (("Content-Type", _JSON), (META_SIGNATURE_HEADER, sign_meta(body, secret)))
    return ProviderRequest("meta", url, headers, body)
