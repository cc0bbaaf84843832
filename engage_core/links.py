"""Signed links for the consent pages: a contact's preference, one-click unsubscribe and
double opt-in confirmation URLs, and the `List-Unsubscribe` headers of RFC 8058.

A link carries a token, `payload.signature`, signed by `itsdangerous` (HMAC-SHA256; no crypto
of our own): whoever holds it may change that one contact's consent, until it expires, and
nothing else. So:

- each purpose signs with its own salt: a manage token (the preferences and unsubscribe pages)
  can never confirm a double opt-in, and a confirmation token never manages preferences;
- the secrets rotate: `ENGAGE_LINK_SECRET` is a comma-separated list whose FIRST secret signs
  and ALL verify, so a new secret goes first and the old one stays until its links expire;
- the expiry is in the signed payload and checked against a `now` the caller gives (the core
  reads no clock of its own, and tests need none);
- a token is at most `MAX_TOKEN_LENGTH` characters, checked before anything is decoded, and its
  base64 must be the one canonical spelling (base64's unused low bits would otherwise let a
  changed last character verify);
- the payload is compact JSON with one-letter keys: it travels in email headers, whose lines
  mail servers cap at 998 characters.

No secret is ever put in a message or a repr. The core reads no environment:
`LinkSettings.from_environment` is given one by the adapter that runs it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import secrets as random_tokens
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import attrs
from itsdangerous import BadData, BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode

from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey, normalise_group_name
from engage_core.errors import InvalidInput

__all__ = [
    "BASE_URL_VAR", "DEFAULT_CONFIRM_EXPIRES_IN", "DEFAULT_EXPIRES_IN", "EXPIRES_VAR",
    "LONGEST_EXPIRY", "MAX_TOKEN_LENGTH", "SECRET_VAR", "SHORTEST_SECRET", "BadLink", "LinkClaims",
    "LinkPurpose", "LinkSettings", "LinkSigner", "LinksNotConfigured", "list_unsubscribe_headers",
    "make_claims", "parse_duration",
]  # fmt: skip

SECRET_VAR = "ENGAGE_LINK_SECRET"
BASE_URL_VAR = "ENGAGE_PUBLIC_URL"
EXPIRES_VAR = "ENGAGE_LINK_EXPIRES"
SHORTEST_SECRET = 16  # characters: an HMAC key shorter than this is guessable offline
# Longer tokens are refused unread, and none longer is made. A usual one is 150-300 characters,
# which keeps a List-Unsubscribe line well within 998; only very long non-ASCII keys come near.
MAX_TOKEN_LENGTH = 1024
# CAN-SPAM wants an unsubscribe link to work 30 days after the send: twice that (mail read late)
DEFAULT_EXPIRES_IN = timedelta(days=60)
DEFAULT_CONFIRM_EXPIRES_IN = timedelta(days=7)  # as double opt-in's default window
LONGEST_EXPIRY = timedelta(days=3650)  # ten years: past that, a link is a permanent credential
_TOKEN = re.compile(r"[A-Za-z0-9_\-.]+")  # URL-safe base64 and the dots between its parts
_TOKEN_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_CHANNEL_CODES = {Channel.EMAIL: "e", Channel.SMS: "s", Channel.WHATSAPP: "w"}
_CODE_CHANNELS = {code: channel for channel, code in _CHANNEL_CODES.items()}


class LinkPurpose(enum.Enum):
    """What a token may be used for; each signs with its own salt."""

    MANAGE = "manage"  # the preferences page and the unsubscribe page (one-click included)
    CONFIRM = "confirm"  # the double opt-in confirmation page only


class BadLink(Exception):
    """A token that cannot be used; `reason` is safe to show to whoever followed the link."""

    FORGED = "forged or tampered"
    EXPIRED = "expired"
    MALFORMED = "malformed"
    WRONG_PURPOSE = "wrong purpose"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LinksNotConfigured(LookupError):
    """Links were asked of an application that has no `LinkSigner` (`problem`: why not, when
    its settings were given but could not be used)."""

    def __init__(self, problem: str | None = None) -> None:
        super().__init__(
            f"signed links cannot be made: {problem}" if problem else
            f"signed links are not configured: set {SECRET_VAR} (comma-separated secrets, the "
            f"first signs) and {BASE_URL_VAR} (the service's public https URL), or give the "
            "application a LinkSigner (`app.links`)"
        )  # fmt: skip


def _utc_second(value: object) -> datetime:
    """A time-zone-aware time in UTC, whole seconds (the payload holds epoch seconds)."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput("expires_at", f"a time-zone-aware datetime is required (got {value!r})")
    return value.astimezone(UTC).replace(microsecond=0)


def _aware(now: datetime) -> datetime:
    if now.utcoffset() is None:
        raise ValueError("now: a time-zone-aware datetime is required")
    return now


@attrs.frozen
class LinkClaims:
    """What a token says: for which purpose, about which contact vector (and group, for email),
    made for which message, its own id (recorded as the provenance of every change made with
    it) and when it stops working."""

    purpose: LinkPurpose
    channel: Channel
    key: str  # the normalised contact key (ContactKey's)
    group: str | None
    message_id: str | None
    token_id: str
    expires_at: datetime = attrs.field(converter=_utc_second)

    def __attrs_post_init__(self) -> None:
        if ContactKey.parse(self.channel, self.key).key != self.key:
            raise InvalidInput("key", "a normalised contact key is required")
        if self.group is not None:
            if self.channel is not Channel.EMAIL:
                raise InvalidInput("group", "groups are for email addresses only")
            normalise_group_name(self.group)
        message = self.message_id
        if message is not None and not (0 < len(message) <= 128 and message.isprintable()):
            raise InvalidInput("message_id", "1 to 128 printable characters are required")
        if not _TOKEN_ID.fullmatch(self.token_id):
            raise InvalidInput("token_id", "1 to 64 URL-safe characters are required")

    @property
    def contact(self) -> ContactKey:
        return ContactKey(self.channel, self.key)


def make_claims(
    purpose: LinkPurpose, contact: ContactKey, *, group: str | None = None,
    message_id: str | None = None, expires_in: timedelta, now: datetime,
    token_id: str | None = None,
) -> LinkClaims:  # fmt: skip
    """Claims for a new token: expiring `expires_in` after `now`, with a fresh random token id
    unless one is given; `InvalidInput` for a group on a channel other than email."""
    _aware(now)
    if not timedelta(0) < expires_in <= LONGEST_EXPIRY:
        raise InvalidInput("expires_in", f"more than 0 and at most {LONGEST_EXPIRY.days} days")
    return LinkClaims(
        purpose=purpose,
        channel=contact.channel,
        key=contact.key,
        group=None if group is None else normalise_group_name(group),
        message_id=message_id,
        token_id=random_tokens.token_urlsafe(12) if token_id is None else token_id,
        expires_at=now + expires_in,
    )


class _CompactJSON:
    """itsdangerous's serializer: no spaces, and UTF-8 rather than \\u escapes (shorter)."""

    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    @staticmethod
    def loads(value: str | bytes) -> Any:
        return json.loads(value)


def _payload(claims: LinkClaims) -> dict[str, Any]:
    payload = {"c": _CHANNEL_CODES[claims.channel], "k": claims.key, "g": claims.group,
               "m": claims.message_id, "t": claims.token_id,
               "x": int(claims.expires_at.timestamp())}  # fmt: skip
    return {name: value for name, value in payload.items() if value is not None}


def _claims_of(payload: Any, purpose: LinkPurpose) -> LinkClaims:
    """The claims a verified payload holds; any error here means "malformed"."""
    expires = payload["x"]
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise TypeError("x")
    texts = [payload["k"], payload.get("g"), payload.get("m"), payload["t"]]
    if not all(isinstance(text, str) for text in (texts[0], texts[3])):
        raise TypeError("k, t")
    key, group, message, token_id = texts  # LinkClaims checks each of them
    channel = _CODE_CHANNELS[payload["c"]]
    expires_at = datetime.fromtimestamp(expires, UTC)
    return LinkClaims(purpose, channel, key, group, message, token_id, expires_at)


def _canonical(token: str) -> bool:
    """Whether each base64 part is spelled as itsdangerous spells it (a changed last character
    can decode to the same bytes, base64's spare low bits being ignored)."""
    body, _, signature = token.rpartition(".")
    payload = body[1:] if body.startswith(".") else body  # a leading dot: zlib-compressed
    try:
        return all(base64_encode(base64_decode(part)).decode() == part
                   for part in (payload, signature) if part)  # fmt: skip
    except BadData:
        return False


def _secret_list(value: str | Sequence[str]) -> tuple[str, ...]:
    """The secrets, newest first, checked; a string is comma-separated (as the variable is)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    found = tuple(item.strip() for item in items if isinstance(item, str) and item.strip())
    if not found or len(found) != len(items):
        raise ValueError(f"{SECRET_VAR}: comma-separated secrets, none of them blank, are needed")
    for place, secret in enumerate(found, start=1):
        if len(secret) < SHORTEST_SECRET:
            raise ValueError(
                f"{SECRET_VAR}: secret {place} of {len(found)} has fewer than "
                f"{SHORTEST_SECRET} characters"
            )
    return found


def _secure(url: str, what: str) -> tuple[str, str]:
    """`url`'s query and fragment, once it is known to be https, or plain http on a loopback
    host (development): a token sent in the clear is a credential anyone on the path reads."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError(f"{what}: not a URL") from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)
    if not secure or not host or "@" in parts.netloc:
        raise ValueError(f"{what}: an https URL is needed (http only for localhost)")
    return parts.query, parts.fragment


def _base_url(value: str) -> str:
    """`https://host[:port][/prefix]` without a trailing slash (see `_secure`)."""
    text = value.strip() if isinstance(value, str) else ""
    if any(_secure(text, f"{BASE_URL_VAR} ({text!r})")):
        raise ValueError(f"{BASE_URL_VAR}: no query or fragment in the base URL ({text!r})")
    if _HEADER_UNSAFE.search(text):  # the URL goes into List-Unsubscribe as it is
        raise ValueError(f"{BASE_URL_VAR}: no spaces, commas, quotes or angle brackets ({text!r})")
    return text.rstrip("/")


class LinkSigner:
    """Makes and reads the tokens of every purpose, with the first of `secrets` signing and
    all of them verifying; builds the page URLs under `base_url`."""

    def __init__(
        self, secrets: str | Sequence[str], base_url: str, *,
        expires_in: timedelta = DEFAULT_EXPIRES_IN,
        confirm_expires_in: timedelta = DEFAULT_CONFIRM_EXPIRES_IN,
    ) -> None:  # fmt: skip
        keys = _secret_list(secrets)
        self.base_url = _base_url(base_url)
        self.expires_in = expires_in  # what a manage link made without one lasts
        self.confirm_expires_in = confirm_expires_in  # and a confirmation link
        self._secret_count = len(keys)
        # itsdangerous signs with the LAST key and tries them all: ours is newest first
        self._serializers = {
            purpose: URLSafeSerializer(
                list(reversed(keys)), salt=f"engage.links.{purpose.value}.v1",
                serializer=_CompactJSON, signer_kwargs={"digest_method": hashlib.sha256},
            )
            for purpose in LinkPurpose
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"LinkSigner(base_url={self.base_url!r}, secrets=<{self._secret_count} hidden>)"

    def token(self, claims: LinkClaims) -> str:
        """The signed token of `claims` (signed by the first secret)."""
        token = str(self._serializers[claims.purpose].dumps(_payload(claims)))
        if len(token) > MAX_TOKEN_LENGTH:  # never make a token `claims` would refuse
            raise InvalidInput("link", f"the token would be over {MAX_TOKEN_LENGTH} characters")
        return token

    def claims(self, token: str, purpose: LinkPurpose, *, now: datetime) -> LinkClaims:
        """What a token says, when it is one of ours, for `purpose`, and unexpired at `now`
        (it works up to and including `expires_at`); `BadLink` otherwise."""
        _aware(now)
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            raise BadLink(BadLink.MALFORMED)
        if not _TOKEN.fullmatch(token) or not _canonical(token):
            raise BadLink(BadLink.FORGED)
        try:
            payload = self._serializers[purpose].loads(token)
        except BadSignature:
            others = (p for p in LinkPurpose if p is not purpose)
            wrong = any(self._serializers[p].make_signer().validate(token) for p in others)
            raise BadLink(BadLink.WRONG_PURPOSE if wrong else BadLink.FORGED) from None
        except BadData:
            raise BadLink(BadLink.MALFORMED) from None
        try:
            claims = _claims_of(payload, purpose)
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            raise BadLink(BadLink.MALFORMED) from None
        if now > claims.expires_at:
            raise BadLink(BadLink.EXPIRED)
        return claims

    def preferences_url(self, claims: LinkClaims) -> str:
        return self._url("preferences", claims, LinkPurpose.MANAGE)

    def unsubscribe_url(self, claims: LinkClaims) -> str:
        return self._url("unsubscribe", claims, LinkPurpose.MANAGE)

    def confirm_url(self, claims: LinkClaims) -> str:
        return self._url("confirm", claims, LinkPurpose.CONFIRM)

    def _url(self, page: str, claims: LinkClaims, purpose: LinkPurpose) -> str:
        if claims.purpose is not purpose:  # the page would refuse it: say so now
            raise ValueError(f"a {page} link needs {purpose.name} claims")
        return f"{self.base_url}/{page}/{self.token(claims)}"


_HEADER_UNSAFE = re.compile(r"[\s<>,\"\x00-\x1f\x7f]")


def list_unsubscribe_headers(unsubscribe_url: str, mailto: str | None = None) -> dict[str, str]:
    """RFC 8058's two headers for one-click unsubscribe: `List-Unsubscribe` holding the HTTPS
    URL (and a mailto: after it when given: some clients only offer that), and
    `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, the body a client POSTs to the URL.
    The mail must be DKIM-signed over both headers for mailbox providers to honour them."""
    url = _header_uri(unsubscribe_url, "unsubscribe_url")
    _secure(url, "unsubscribe_url (RFC 8058 needs an HTTPS URI)")
    uris = [f"<{url}>"]
    if mailto is not None:
        address = _header_uri(mailto, "mailto")
        scheme = "" if address.lower().startswith("mailto:") else "mailto:"
        uris.append(f"<{scheme}{address}>")
    return {
        "List-Unsubscribe": ", ".join(uris),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _header_uri(value: str, field: str) -> str:
    """A URI as a header may hold it: nothing that ends it, folds it or starts another."""
    if not value or _HEADER_UNSAFE.search(value):
        raise InvalidInput(field, "no spaces, commas, quotes, <, > or control characters")
    return value


_DURATION = re.compile(r"([0-9]{1,9})([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str, name: str = EXPIRES_VAR) -> timedelta:
    """`90m`, `12h`, `30d`, `2w` (or `3600s`): more than 0, at most `LONGEST_EXPIRY`;
    `InvalidInput` naming `name` otherwise."""
    found = _DURATION.fullmatch(text.strip().lower()) if isinstance(text, str) else None
    expected = f"a duration like 30d, 12h or 90m, at most {LONGEST_EXPIRY.days}d"
    if found is None:
        raise InvalidInput(name, f"{expected} (got {str(text)[:40]!r})")
    duration = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if not timedelta(0) < duration <= LONGEST_EXPIRY:
        raise InvalidInput(name, f"{expected} (got {text.strip()!r})")
    return duration


def _expiry(_: object, __: attrs.Attribute[timedelta], value: timedelta) -> None:
    if not timedelta(0) < value <= LONGEST_EXPIRY:
        raise ValueError(f"{EXPIRES_VAR}: more than 0 and at most {LONGEST_EXPIRY.days} days")


@attrs.frozen
class LinkSettings:
    """Where links come from, as a deployment sets them (`from_environment`)."""

    secrets: tuple[str, ...] = attrs.field(converter=_secret_list, repr=False)
    base_url: str = attrs.field(converter=_base_url)
    expires_in: timedelta = attrs.field(default=DEFAULT_EXPIRES_IN, validator=_expiry)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> LinkSettings:
        """`ENGAGE_LINK_SECRET` (comma-separated, the first signs), `ENGAGE_PUBLIC_URL` (the
        service's public base URL) and `ENGAGE_LINK_EXPIRES` (default 60d); `ValueError`
        naming the variable that is missing or unusable (never its secret value)."""
        for name in (SECRET_VAR, BASE_URL_VAR):
            if not environ.get(name, "").strip():
                raise ValueError(f"{name} is not set: signed links need it")
        expires = environ.get(EXPIRES_VAR, "").strip()
        return cls(
            secrets=environ[SECRET_VAR],  # the converter splits it
            base_url=environ[BASE_URL_VAR],
            expires_in=parse_duration(expires, EXPIRES_VAR) if expires else DEFAULT_EXPIRES_IN,
        )

    def signer(self, confirm_expires_in: timedelta = DEFAULT_CONFIRM_EXPIRES_IN) -> LinkSigner:
        return LinkSigner(self.secrets, self.base_url, expires_in=self.expires_in,
                          confirm_expires_in=confirm_expires_in)  # fmt: skip
