"""Meta's WhatsApp Cloud API webhook: the signed POST of `messages` notifications, and the GET
handshake that subscribes the callback URL.

A POST carries `entry[].changes[]`; a change whose `field` is `messages` holds `statuses[]`
(reports on messages we sent) and `messages[]` (messages users sent us). Each status and each
inbound message is one element: it maps to one `Observation`, or is quarantined alone with its
reason. Meta signs the raw body only (`X-Hub-Signature-256`, HMAC-SHA256 keyed by the app
secret): no URL, no timestamp, so there is no freshness to check, and a replayed request is
caught by the dedup keys instead.

See docs/providers.md (Meta) for the setup, the mapping table and what is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import orjson

from adapters.providers.base import (
    CHOICE_KEY,
    BodyRefused,
    InboundRequest,
    Parsed,
    QuarantinedElement,
    SignatureRefused,
    require_json,
)
from engage_core import Channel, InvalidInput, Observation
from engage_core.observations import ProviderFacts

APP_SECRET_VAR = "ENGAGE_META_APP_SECRET"
VERIFY_TOKEN_VAR = "ENGAGE_META_VERIFY_TOKEN"
SIGNATURE_HEADER = "X-Hub-Signature-256"
PROVIDER = "meta"

# Meta's status words onto the WhatsApp lifecycle. `played` (a voice message was played) is the
# voice form of `read`: it proves delivery and that the user took the message in. Anything else
# (the On-Premises API's `deleted`, `warning`) is quarantined, so a new word is seen, not lost.
STATUSES: Mapping[str, str] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "played": "read",
}

_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})", re.IGNORECASE)
# Unix seconds as Meta writes them; 12 digits reach past year 9999, which the core refuses anyway.
_SECONDS = re.compile(r"[0-9]{1,12}")
_NUMBER = re.compile(r"\+?([0-9]+)")


class SubscriptionRefused(SignatureRefused):
    """The GET handshake is refused: wrong mode, wrong or missing token, no challenge. Meta's
    samples answer it 403 (a token mismatch is not a missing credential)."""

    http_status = 403


class _Unmappable(ValueError):
    """One element (or an unreadable container of elements) that cannot become an input."""


@attrs.frozen
class _Element:
    """A status or inbound message at `path`; `kind` None marks a container that could not be
    read, quarantined whole with `problem`."""

    path: str
    raw: object
    kind: str | None
    problem: str = ""


def _configured(value: str | None) -> str | None:
    """Blank is unset; surrounding whitespace (a secret file's newline) is never part of Meta's
    hex secrets or of a token someone typed into the dashboard."""
    if value is None or not value.strip():
        return None
    return value.strip()


def _text_bytes(value: str) -> bytes:
    # compare_digest refuses non-ASCII str; a query decoded leniently may hold lone surrogates
    return value.encode("utf-8", "surrogatepass")


def verify_subscription(query: Mapping[str, str], verify_token: str | Sequence[str] | None) -> str:
    """The `hub.challenge` to echo when Meta subscribes the callback URL (a GET with
    `hub.mode=subscribe` and the verify token set in the app dashboard); `SubscriptionRefused`
    (a `SignatureRefused`, answered 403) otherwise. `verify_token` may list several tokens,
    comma-separated as `ENGAGE_META_VERIFY_TOKEN` takes them (one being rotated out), any of
    which matches; each is compared in constant time."""
    tokens = _verify_tokens(verify_token)
    if not tokens:
        raise SubscriptionRefused(f"no Meta verify token configured: set {VERIFY_TOKEN_VAR}")
    mode = query.get("hub.mode")
    if mode != "subscribe":
        raise SubscriptionRefused(f"hub.mode: expected 'subscribe' (got {_shown(mode)})")
    given = query.get("hub.verify_token")
    matched = False
    for token in tokens:  # every token compared, so timing tells nothing of which matched
        matched |= isinstance(given, str) and hmac.compare_digest(
            _text_bytes(given), _text_bytes(token)
        )
    if not matched:
        raise SubscriptionRefused("hub.verify_token does not match the configured verify token")
    challenge = query.get("hub.challenge")
    if not isinstance(challenge, str) or not challenge:
        raise SubscriptionRefused("hub.challenge: missing")
    return challenge


def _verify_tokens(verify_token: str | Sequence[str] | None) -> tuple[str, ...]:
    if verify_token is None:
        return ()
    items = verify_token.split(",") if isinstance(verify_token, str) else verify_token
    return tuple(token for token in (_configured(item) for item in items) if token is not None)


class MetaAdapter:
    """Meta WhatsApp Cloud API webhooks: verify, parse, map to WhatsApp observations."""

    name = PROVIDER

    def __init__(self, app_secret: str | None, *, verify_token: str | None = None) -> None:
        self._app_secret = _configured(app_secret)
        self._verify_token = _configured(verify_token)

    def __repr__(self) -> str:  # never the secrets themselves
        secret = "set" if self._app_secret else "unset"
        token = "set" if self._verify_token else "unset"
        return f"MetaAdapter(app_secret={secret}, verify_token={token})"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> MetaAdapter:
        """Secrets from ENGAGE_META_APP_SECRET and ENGAGE_META_VERIFY_TOKEN."""
        env = os.environ if environ is None else environ
        return cls(env.get(APP_SECRET_VAR), verify_token=env.get(VERIFY_TOKEN_VAR))

    def verify(self, request: InboundRequest, *, now: datetime | None = None) -> None:
        """Check `X-Hub-Signature-256` over the raw body. `now` is unused: Meta signs no
        timestamp, so there is no window to check (dedup keys catch a replay)."""
        if self._app_secret is None:
            raise SignatureRefused(f"no Meta app secret configured: set {APP_SECRET_VAR}")
        header = request.headers.get(SIGNATURE_HEADER)
        if header is None:
            raise SignatureRefused(f"missing {SIGNATURE_HEADER} header")
        match = _SIGNATURE.fullmatch(header.strip())
        if match is None:
            raise SignatureRefused(f"{SIGNATURE_HEADER}: expected sha256=<64 hex digits>")
        expected = hmac.new(_text_bytes(self._app_secret), request.body, hashlib.sha256)
        if not hmac.compare_digest(bytes.fromhex(match.group(1)), expected.digest()):
            raise SignatureRefused(
                f"{SIGNATURE_HEADER} does not match the body (another app secret, or the body "
                "was changed on the way)"
            )

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        """The handshake (see `verify_subscription`) against this adapter's verify token."""
        return verify_subscription(query, self._verify_token)

    def parse(self, request: InboundRequest) -> Parsed:
        """Map every status and inbound message; `BodyRefused` for a body that is not a Meta
        WhatsApp notification at all. `received` counts the elements (and unreadable containers),
        each of which yields one observation or one quarantined element; `index` is an element's
        position in that count, in body order."""
        document = _document(request)
        ignored: list[str] = []
        elements = list(_elements(document["entry"], ignored))
        inputs: list[Observation] = []
        quarantined: list[QuarantinedElement] = []
        for index, element in enumerate(elements):
            try:
                inputs.append(_observation(element))
            except (_Unmappable, InvalidInput) as error:
                raw = orjson.dumps(element.raw)
                quarantined.append(QuarantinedElement(index, raw, f"{element.path}: {error}"))
        return Parsed(len(elements), tuple(inputs), tuple(quarantined), tuple(ignored))


# The whole body


def _document(request: InboundRequest) -> dict[str, Any]:
    require_json(request.headers, "Meta")
    try:
        document = orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        raise BodyRefused(f"not JSON ({error})") from error
    if not isinstance(document, dict):
        raise BodyRefused(f"expected a JSON object (got {type(document).__name__})")
    if document.get("object") != "whatsapp_business_account":
        raise BodyRefused(
            f"object: expected 'whatsapp_business_account' (got {_shown(document.get('object'))})"
        )
    if not isinstance(document.get("entry"), list):
        raise BodyRefused(f"entry: expected a list (got {_shown(document.get('entry'))})")
    try:  # what cannot be written back cannot be stored or quarantined either
        orjson.dumps(document)
    except orjson.JSONEncodeError as error:
        raise BodyRefused(f"nested deeper than Engage stores ({error})") from error
    return document


def _elements(entries: list[Any], ignored: list[str]) -> Iterator[_Element]:
    """Statuses and inbound messages in body order, and the containers that hide them."""
    for e, entry in enumerate(entries):
        path = f"entry[{e}]"
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            yield _Element(path, entry, None, "expected an object with a changes list")
            continue
        for c, change in enumerate(changes):
            yield from _change_elements(f"{path}.changes[{c}]", change, ignored)


def _change_elements(path: str, change: object, ignored: list[str]) -> Iterator[_Element]:
    if not isinstance(change, dict) or not isinstance(change.get("field"), str):
        yield _Element(path, change, None, "expected an object with a field name")
        return
    if change["field"] != "messages":  # account, template, quality… notifications
        ignored.append(f"{path}: field {change['field']!r} (not messages)")
        return
    value = change.get("value")
    if not isinstance(value, dict):
        yield _Element(path, change, None, f"value: expected an object (got {_shown(value)})")
        return
    for key, kind in (("statuses", "status"), ("messages", "message")):
        if key not in value:
            continue
        items = value[key]
        if not isinstance(items, list):
            yield _Element(f"{path}.value.{key}", items, None, "expected a list")
            continue
        for i, item in enumerate(items):
            yield _Element(f"{path}.value.{key}[{i}]", item, kind)
    if "errors" in value:  # system- or account-level problems, tied to no message
        ignored.append(f"{path}.value.errors: {_shown(value['errors'], 300)}")
    elif "statuses" not in value and "messages" not in value:
        ignored.append(f"{path}.value: no statuses or messages (keys: {sorted(value)})")


# One element


def _observation(element: _Element) -> Observation:
    if element.kind is None:
        raise _Unmappable(element.problem)
    if not isinstance(element.raw, dict):
        raise _Unmappable(f"expected an object (got {_shown(element.raw)})")
    if element.kind == "status":
        return _status(element.raw)
    return _inbound(element.raw)


def _status(status: dict[str, Any]) -> Observation:
    """A report on a message we sent; details keep the whole status object (errors, pricing,
    conversation, biz_opaque_callback_data)."""
    wamid = _id(status)
    word = status.get("status")
    if not isinstance(word, str) or word not in STATUSES:
        raise _Unmappable(f"status: expected one of {', '.join(STATUSES)} (got {_shown(word)})")
    seconds = _seconds(status.get("timestamp"))
    key: list[object] = [wamid, word, seconds]
    participant = status.get("recipient_participant_id")
    if isinstance(participant, str):  # a group message reports once per participant
        key.append(participant)
    return Observation(
        channel=Channel.WHATSAPP,
        provider=PROVIDER,
        provider_message_id=wamid,
        status=STATUSES[word],
        occurred_at=seconds,
        details=status,
        provider_keys=(_key(key),),
        facts=ProviderFacts(contact=_number(status.get("recipient_id")), error_code=_error(status)),
    )


def _number(value: object) -> str | None:
    """A wa_id as E.164: Meta writes it without its `+`."""
    match = _NUMBER.fullmatch(value) if isinstance(value, str) else None
    return f"+{match.group(1)}" if match else None


def _error(status: Mapping[str, Any]) -> str | None:
    """The code of the status's first error (Meta lists them; the first is the cause)."""
    errors = status.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, dict) else None
    return None if code in (None, "") else str(code)


def _inbound(message: dict[str, Any]) -> Observation:
    """A message a user sent us. The core reads its typed facts: the sender, the typed text
    (a keyword can only be typed) and a tapped button's or list row's title as `choice` (an
    answer, never a keyword). `details` also keeps them as `Body`/`choice` and `From`, named
    as for Twilio, so one history reads alike. Its id is also the event id, so consent
    changes it causes cite it."""
    wamid = _id(message)
    seconds = _seconds(message.get("timestamp"))
    details = dict(message)
    typed, value = _words(message)
    if value is not None:
        details["Body" if typed else CHOICE_KEY] = value
    sender = _sender(message.get("from"))
    if sender is not None:
        details["From"] = sender
    facts = ProviderFacts(
        contact=sender,
        text=value if typed and value is not None and value.strip() else None,
        choice=None if typed else value,
    )
    return Observation(
        channel=Channel.WHATSAPP,
        provider=PROVIDER,
        provider_message_id=wamid,
        status="received",
        occurred_at=seconds,
        event_id=wamid,
        details=details,
        provider_keys=(_key([wamid, "received", seconds]),),
        facts=facts,
    )


def _id(element: dict[str, Any]) -> str:
    value = element.get("id")
    if not isinstance(value, str) or not value:
        raise _Unmappable(f"id: expected the wamid, a non-empty string (got {_shown(value)})")
    return value


def _seconds(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _SECONDS.fullmatch(value):
        return int(value)
    raise _Unmappable(f"timestamp: expected Unix seconds (got {_shown(value)})")


def _key(parts: list[object]) -> str:
    """One composite dedup key; JSON so that no id can run into the next part."""
    return orjson.dumps(parts).decode()


def _sender(value: object) -> str | None:
    """Meta writes the number without `+`; the core reads E.164. A user who hides the number
    behind a username may send none (their business-scoped id is kept in details)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Unmappable(f"from: expected the sender's number, a string (got {_shown(value)})")
    number = _NUMBER.fullmatch(value)
    return f"+{number.group(1)}" if number else None


def _words(message: dict[str, Any]) -> tuple[bool, str | None]:
    """The words the user typed (True) or chose (False): a text's body; a template quick-reply
    button's text, an interactive reply's title. Other types (media, reactions, locations…)
    carry none."""
    kind = message.get("type")
    if not isinstance(kind, str):
        raise _Unmappable(f"type: expected a string (got {_shown(kind)})")
    if kind == "text":
        return True, _text_at(message, "text", "body")
    if kind == "button":
        return False, _text_at(message, "button", "text")
    if kind == "interactive":
        interactive = message.get("interactive")
        if not isinstance(interactive, dict):
            raise _Unmappable(f"interactive: expected an object (got {_shown(interactive)})")
        reply = interactive.get("type")
        if isinstance(reply, str) and reply in {"button_reply", "list_reply"}:
            return False, _text_at(interactive, reply, "title", prefix="interactive.")
    return True, None


def _text_at(parent: dict[str, Any], name: str, field: str, prefix: str = "") -> str:
    holder = parent.get(name)
    value = holder.get(field) if isinstance(holder, dict) else None
    if not isinstance(value, str):
        raise _Unmappable(f"{prefix}{name}.{field}: expected a string (got {_shown(value)})")
    return value


def _shown(value: object, limit: int = 80) -> str:
    """A value for a reason: repr, cut short (a bad element can be megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
