"""What every provider adapter shares: the request as received, the two ways to refuse it, and
what parsing yields.

An adapter does three things and nothing else (no domain rules): verify the signature over the
raw bytes as received, parse the body, and map each element to the core's inputs
(`Observation`, `Send`). A request is refused whole (`SignatureRefused`, `BodyRefused`: nothing
of it is applied); a single bad element of an otherwise good batch is quarantined alone, with
its reason, while the rest apply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import BinaryIO, Protocol

import attrs

from engage_core import Observation, Send

__all__ = [
    "CHOICE_KEY",
    "BodyPrefix",
    "BodyRefused",
    "BodyTooLarge",
    "Headers",
    "InboundRequest",
    "Parsed",
    "ProviderAdapter",
    "QuarantinedElement",
    "Refused",
    "SignatureRefused",
    "media_type",
    "read_body",
    "require_json",
]


# The key under which Twilio's and Meta's adapters keep a tapped button's or list row's title in
# `details` beside the provider's own fields (the record as read; the core reads
# `ProviderFacts.choice`).
CHOICE_KEY = "choice"


class Headers(Mapping[str, str]):
    """HTTP headers, looked up case-insensitively (providers and proxies vary the case);
    iteration keeps the names as received."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            self._items[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k.lower(): v for k, v in self.items()} == {
            str(k).lower(): v for k, v in other.items()
        }

    def __hash__(self) -> int:
        return hash(frozenset((k, v) for k, (_, v) in self._items.items()))


def _headers(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
    return value if isinstance(value, Headers) else Headers(value)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class InboundRequest:
    """One webhook request exactly as received: the body's bytes (signatures are over them, so
    they are never re-encoded), the headers, and the full URL the provider called (Twilio signs
    over it, query included)."""

    body: bytes
    headers: Headers = attrs.field(factory=Headers, converter=_headers)
    url: str = ""
    method: str = "POST"
    received_at: datetime = attrs.field(factory=_utc_now)


class Refused(Exception):
    """The whole request is refused, nothing of it applied. `reason` is for the sender and the
    operator; `http_status` is what the web service will answer."""

    http_status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureRefused(Refused):
    """Missing, malformed, wrong or stale signature, or no secret configured to check it."""

    http_status = 401


class BodyRefused(Refused):
    """The body is not what this provider sends (content type, encoding, shape)."""

    http_status = 400


class BodyTooLarge(Refused):
    """The body is over its size limit: never verified, never parsed."""

    http_status = 413


@attrs.frozen
class BodyPrefix:
    """The first bytes of a body over its limit, with the whole body's size and SHA-256: what
    can be said of it without ever holding it whole."""

    prefix: bytes
    size: int
    sha256: str


_CHUNK = 64 * 1024


def read_body(stream: BinaryIO, limit: int, *, keep: int) -> bytes | BodyPrefix:
    """The whole body when it is at most `limit` bytes; else its first `keep` bytes (never more
    than `limit`), its size and its digest, the rest read in small chunks and let go (memory
    stays near `limit`)."""
    head = stream.read(limit + 1)
    if len(head) <= limit:
        return head
    digest, size = hashlib.sha256(head), len(head)
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return BodyPrefix(head[: min(keep, limit)], size, digest.hexdigest())


def media_type(headers: Headers) -> str:
    """The declared media type, lower-cased, without its parameters ('' when none)."""
    return headers.get("Content-Type", "").partition(";")[0].strip().lower()


def require_json(headers: Headers, sender: str) -> None:
    """`BodyRefused` unless the body is declared as JSON: a body declared as anything else
    (or not declared) is not `sender`'s, and JSON is UTF-8 whatever a charset says."""
    declared = headers.get("Content-Type", "")
    if media_type(headers) != "application/json":
        raise BodyRefused(
            f"Content-Type {declared or 'missing'!r}: {sender} posts application/json"
        )
    for parameter in declared.partition(";")[2].split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip(' "').lower() not in {"utf-8", "utf8"}:
            raise BodyRefused(f"Content-Type {declared!r}: JSON is UTF-8")


@attrs.frozen
class QuarantinedElement:
    """One element of a batch that could not be mapped: kept with its reason, not applied.
    `element` is its raw JSON (or, for a form body, the JSON of its parameters)."""

    index: int | None
    element: bytes
    reason: str


@attrs.frozen
class Parsed:
    """What one request maps to: the core's inputs, in the order received, and the elements
    quarantined (each with its reason)."""

    received: int  # elements in the request (one may yield an observation and a send record)
    inputs: tuple[Observation | Send, ...] = ()
    quarantined: tuple[QuarantinedElement, ...] = ()
    # valid notifications that are not messaging events (a provider's account notices), each
    # named: acknowledged and reported, not applied, not counted in `received`
    ignored: tuple[str, ...] = ()


class ProviderAdapter(Protocol):
    """One provider's webhook: `verify` raises `SignatureRefused`; `parse` raises `BodyRefused`
    for a body it cannot read at all and quarantines single bad elements."""

    name: str

    def verify(self, request: InboundRequest, *, now: datetime | None = None) -> None: ...

    def parse(self, request: InboundRequest) -> Parsed: ...
