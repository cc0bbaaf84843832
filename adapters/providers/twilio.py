"""Twilio SMS and WhatsApp webhooks: status callbacks and inbound messages.

One request is one report about one message, form-encoded (or, for Twilio's JSON webhooks, a
JSON object whose hash rides in the URL as `bodySHA256`). Twilio adds parameters without notice
and signs over all of them, so every parameter is kept in `details` under its own name and
nothing is lost for later; what the core reads (the sender, the text, a tapped choice, Advanced
Opt-Out's `OptOutType`) the adapter fills in as typed provider facts.

Twilio signs no timestamp, so nothing can be stale; a replayed request carries the same
`I-Twilio-Idempotency-Token` and the same (`MessageSid`, `MessageStatus`, `RawDlrDoneDate`,
`ErrorCode`), and the core drops it as a duplicate. How a signature is computed and which URLs
it may cover is `twilio_signature`'s.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import orjson

from adapters.providers.base import (
    CHOICE_KEY,
    BodyRefused,
    InboundRequest,
    Parsed,
    QuarantinedElement,
    SignatureRefused,
    media_type,
)
from adapters.providers.twilio_signature import (
    body_sha256,
    encodable_url,
    expected_signature,
    shown_url,
    signed_url_variants,
)
from engage_core import Channel, InvalidInput, Observation
from engage_core.provider_facts import ProviderFacts

__all__ = [
    "AUTH_TOKEN_ENV_VAR",
    "BODY_HASH_PARAMETER",
    "FORM_CONTENT_TYPE",
    "IDEMPOTENCY_HEADER",
    "JSON_CONTENT_TYPE",
    "PROVIDER",
    "RAW_DLR_DONE_AT_KEY",
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "STATUSES",
    "URL_QUERY_KEY",
    "TwilioAdapter",
    "body_sha256",
    "expected_signature",
    "shown_url",
    "signed_url_variants",
]

PROVIDER = "twilio"
AUTH_TOKEN_ENV_VAR = "ENGAGE_TWILIO_AUTH_TOKEN"
SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
BODY_HASH_PARAMETER = "bodySHA256"

# Keys Engage adds to `details` beside Twilio's own (which are all PascalCase, so never clash).
URL_QUERY_KEY = "url_query"  # the query of the URL Twilio called, e.g. our engage_message_id
# CHOICE_KEY ("choice"): a tapped WhatsApp button's or list row's title (see `_choice`)
RAW_DLR_DONE_AT_KEY = "raw_dlr_done_at"  # RawDlrDoneDate as ISO 8601, no zone (none is known)

# Twilio's `MessageInstance.Status` values, each the core's status of the same name (the SMS and
# WhatsApp lifecycles follow Twilio's). Written out so a status Twilio adds is quarantined until
# someone decides where it goes, rather than guessed.
STATUSES: Mapping[str, str] = MappingProxyType(
    {
        status: status
        for status in (
            "accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed",
            "delivered", "undelivered", "partially_delivered", "read", "receiving", "received",
        )
    }
)  # fmt: skip

_CHANNEL_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):")
_DLR_DATE = re.compile(r"[0-9]{10}")
_SHOWN = 80  # characters of a bad value quoted in a reason
_CHOICE_TYPES = frozenset({"button", "interactive"})
_CHOICE_PARAMETERS = ("ButtonText", "ButtonPayload", "ListTitle", "ListId")


class _Unreadable(Exception):
    """The body cannot be read as what its content type says (so neither signed nor parsed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TwilioAdapter:
    """Twilio's webhooks for SMS and WhatsApp: status callbacks and inbound messages."""

    name = PROVIDER

    def __init__(self, auth_token: str | None) -> None:
        if auth_token:
            auth_token.encode("utf-8")  # a token that cannot be a key fails here, not per request
        self._auth_token = auth_token or None

    def __repr__(self) -> str:  # never the token
        configured = "configured" if self._auth_token else "not configured"
        return f"TwilioAdapter(auth_token {configured})"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TwilioAdapter:
        """The adapter with the auth token from `ENGAGE_TWILIO_AUTH_TOKEN` (unset: none, and
        `verify` refuses everything, saying so)."""
        environ = os.environ if environ is None else environ
        return cls((environ.get(AUTH_TOKEN_ENV_VAR) or "").strip() or None)

    def verify(self, request: InboundRequest, *, now: datetime | None = None) -> None:
        """Raise `SignatureRefused` unless `X-Twilio-Signature` is Twilio's for this URL and
        these parameters (or, for a JSON body, this URL and a `bodySHA256` matching the raw
        body). `now` is unused: Twilio signs no timestamp."""
        del now
        if self._auth_token is None:
            raise SignatureRefused(
                f"no Twilio auth token configured: set {AUTH_TOKEN_ENV_VAR} to the account's "
                "primary Auth Token"
            )
        if SIGNATURE_SETTINGS_HEADER in request.headers:
            raise SignatureRefused(
                f"signed with a Webhooks SharedKey ({SIGNATURE_SETTINGS_HEADER} present); Engage "
                "checks Auth Token signatures only: remove the Webhook Rule matching this URL"
            )
        signature = request.headers.get(SIGNATURE_HEADER, "").strip()
        if not signature:
            raise SignatureRefused(f"missing {SIGNATURE_HEADER} header")
        if not request.url:
            raise SignatureRefused("no request URL: Twilio signs over the full URL it called")
        params = _signed_params(request)
        received = signature.encode("utf-8", "replace")
        matches = [
            hmac.compare_digest(
                expected_signature(self._auth_token, candidate, params).encode("ascii"), received
            )
            for candidate in signed_url_variants(encodable_url(request.url))
        ]
        if not any(matches):
            raise SignatureRefused(
                f"{SIGNATURE_HEADER} does not match the URL {shown_url(request.url)} (checked "
                "with and without its port) and this body: check the URL is exactly the one "
                f"Twilio called (scheme, host, path, query) and {AUTH_TOKEN_ENV_VAR}"
            )

    def parse(self, request: InboundRequest) -> Parsed:
        """The request's one report as an observation; a report that cannot be one (no message
        id, an unknown status, another channel) is quarantined with its reason."""
        if request.method.upper() != "POST":
            raise BodyRefused(f"method {request.method}: configure the Twilio webhook as POST")
        try:
            params = _params(request)
        except _Unreadable as error:
            raise BodyRefused(error.reason) from None
        details = _details(params, request.url)
        try:
            observation = _observation(request, params, details)
        except InvalidInput as error:
            element = QuarantinedElement(None, orjson.dumps(details), str(error))
            return Parsed(received=1, quarantined=(element,))
        return Parsed(received=1, inputs=(observation,))


# Reading the body: one function for both verify and parse, so what is signed is what is read.


def _form_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except ValueError as error:  # UnicodeDecodeError included
        raise _Unreadable(f"the form body is not UTF-8 form data ({error})") from None


def _params(request: InboundRequest) -> dict[str, Any]:
    """The request's parameters: a repeated form name keeps its distinct values as a list."""
    declared = media_type(request.headers)
    if declared == FORM_CONTENT_TYPE:
        return _collect(_form_pairs(request.body))
    if declared == JSON_CONTENT_TYPE:
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError as error:
            raise _Unreadable(f"the JSON body does not parse ({error})") from None
        if not isinstance(data, dict):
            raise _Unreadable(f"a JSON body must be an object (got {type(data).__name__})")
        return data
    raise _Unreadable(
        f"content type {declared or 'missing'!r}: Twilio sends {FORM_CONTENT_TYPE} "
        f"(or {JSON_CONTENT_TYPE} with {BODY_HASH_PARAMETER} in the URL)"
    )


def _signed_params(request: InboundRequest) -> list[tuple[str, str]]:
    """What the signature covers besides the URL: the form parameters, or for a JSON body none
    (the body is bound by `bodySHA256`, checked here against the raw bytes)."""
    declared = media_type(request.headers)
    if declared != JSON_CONTENT_TYPE:
        if declared != FORM_CONTENT_TYPE:
            raise SignatureRefused(f"cannot check the signature of a {declared!r} body")
        try:
            return _form_pairs(request.body)
        except _Unreadable as error:
            raise SignatureRefused(f"cannot check the signature: {error.reason}") from None
    claimed = parse_qs(_query(request.url)).get(BODY_HASH_PARAMETER, [""])[0]
    if not claimed:
        raise SignatureRefused(f"a JSON body is signed through {BODY_HASH_PARAMETER} in the URL")
    if not hmac.compare_digest(body_sha256(request.body).encode(), claimed.encode("utf-8")):
        raise SignatureRefused(f"the body does not match {BODY_HASH_PARAMETER}")
    return []


def _collect(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    values: dict[str, dict[str, None]] = {}
    for name, value in pairs:
        values.setdefault(name, {})[value] = None
    return {name: next(iter(vs)) if len(vs) == 1 else list(vs) for name, vs in values.items()}


def _query(url: str) -> str:
    return encodable_url(url).partition("#")[0].partition("?")[2]


# Mapping the parameters.


def _details(params: Mapping[str, Any], url: str) -> dict[str, Any]:
    """Every parameter under its own name, then what Engage derives (never over a parameter)."""
    details = dict(params)
    query = _collect(parse_qsl(_query(url), keep_blank_values=True))
    if query:
        details.setdefault(URL_QUERY_KEY, query)
    done_at = _dlr_done_at(params.get("RawDlrDoneDate"))
    if done_at is not None:
        details.setdefault(RAW_DLR_DONE_AT_KEY, done_at)
    choice = _choice(params)
    if choice is not None:
        details.setdefault(CHOICE_KEY, choice)
    return details


def _choice(params: Mapping[str, Any]) -> str | None:
    """The title of a tapped WhatsApp button or list row, which Twilio also puts in `Body`:
    an answer in a conversation, not typed text, so marked for the core's keyword rule.
    Twilio says so with `MessageType` `button` / `interactive`, or with the reply's own
    parameters (`ButtonText`/`ButtonPayload`, `ListTitle`/`ListId`)."""
    kind = params.get("MessageType")
    tapped = isinstance(kind, str) and kind.strip().lower() in _CHOICE_TYPES
    if not tapped and not any(name in params for name in _CHOICE_PARAMETERS):
        return None
    for name in ("ButtonText", "ListTitle", "Body"):
        value = params.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _dlr_done_at(value: object) -> str | None:
    """`RawDlrDoneDate` (YYMMDDhhmm, the carrier's done date, zone unknown) as ISO 8601 without
    an offset; kept for reading, never used to order (carriers' clocks and zones vary)."""
    if not isinstance(value, str) or not _DLR_DATE.fullmatch(value):
        return None
    year, month, day, hour, minute = (int(value[i : i + 2]) for i in range(0, 10, 2))
    try:
        return datetime(2000 + year, month, day, hour, minute).isoformat()
    except ValueError:
        return None


def _observation(
    request: InboundRequest, params: Mapping[str, Any], details: Mapping[str, Any]
) -> Observation:
    sid = _first_text(params, "MessageSid", "SmsSid")
    raw_status = _first_text(params, "MessageStatus", "SmsStatus")
    status = STATUSES.get(raw_status.strip().lower())
    if status is None:
        raise InvalidInput(
            "MessageStatus",
            f"unknown Twilio status {_shown(raw_status)} (known: {', '.join(STATUSES)})",
        )
    composite = [sid, raw_status, params.get("RawDlrDoneDate"), params.get("ErrorCode")]
    return Observation(
        channel=_channel(params),
        provider=PROVIDER,
        provider_message_id=sid,
        status=status,
        # Twilio's callbacks carry no time of their own (RawDlrDoneDate is a carrier's, of
        # unknown zone): the moment the request reached us is the honest one.
        occurred_at=request.received_at,
        event_id=request.headers.get(IDEMPOTENCY_HEADER, "").strip() or None,
        details=details,
        # JSON, so that no part can run into the next
        provider_keys=(orjson.dumps(composite).decode(),),
        facts=_facts(status, params, details),
    )


def _one(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return value if isinstance(value, str) and value.strip() else None


def _facts(status: str, params: Mapping[str, Any], details: Mapping[str, Any]) -> ProviderFacts:
    """What the core reads of a Twilio report: the recipient of a status callback (`To`) or
    the sender of an inbound message (`From`, with its `whatsapp:` prefix); on an inbound
    message its `Body` (typed, unless a tapped choice), the tapped title, and Advanced
    Opt-Out's `OptOutType`; on a failure its `ErrorCode`."""
    inbound = status in {"receiving", "received"}
    contact = _one(params, "From" if inbound else "To")
    error = params.get("ErrorCode")
    choice = details.get(CHOICE_KEY)
    opt_out = params.get("OptOutType")
    return ProviderFacts(
        contact=contact.strip() if contact is not None else None,
        text=_one(params, "Body") if inbound else None,
        choice=choice if inbound and isinstance(choice, str) else None,
        opt_out=opt_out if inbound and isinstance(opt_out, str) else None,
        error_code=None if error in (None, "") else str(error),
    )


def _first_text(params: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = params.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InvalidInput(name, f"one text value expected (got {_shown(value)})")
        return value
    raise InvalidInput(names[0], f"missing, and so is {' and '.join(names[1:])}")


def _channel(params: Mapping[str, Any]) -> Channel:
    """WhatsApp when the addresses say `whatsapp:`, SMS (and MMS) when they carry no prefix;
    another prefix (`rcs:`, `messenger:`) is a channel Engage does not follow."""
    prefixes: set[str] = set()
    for name in ("From", "To"):
        value = params.get(name)
        for address in value if isinstance(value, list) else [value]:
            match = _CHANNEL_PREFIX.match(address) if isinstance(address, str) else None
            if match:
                prefixes.add(match.group(1).lower())
    if not prefixes:
        return Channel.SMS
    if prefixes == {"whatsapp"}:
        return Channel.WHATSAPP
    raise InvalidInput("From", f"channel {', '.join(sorted(prefixes))} is neither SMS nor WhatsApp")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
