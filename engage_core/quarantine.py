"""Quarantine: provider requests that could not be applied, kept whole so nothing is lost.

A request is held when it was refused (bad signature, a body the provider does not send) or when
single elements of it could not be mapped; its raw bytes, headers and URL are kept exactly as
received, with every reason, so an operator can list it and, after a fix (the right secret, a
newer Engage that knows a new status), run it again. Running a held request again is safe
because everything of it that was applied the first time is a duplicate now: the message
aggregates' dedup keys make re-application idempotent.

One aggregate per distinct request (provider, URL and body digest), so the same bad request
arriving again is one entry seen twice, not two entries.

A request held without a verified signature (a bad or missing one, or a body over its size
limit, which is never verified) keeps only its first bytes, with its full size and SHA-256:
whoever sent it is unknown, and unsigned junk must not fill the disk. Such a hold says what
came but cannot be run again (`HeldRequest.truncated`); the provider's own retries, answered
with an error, bring the request back whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs

from engage_core.events import DomainEvent
from engage_core.ids import name_of, uuid5


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@attrs.frozen
class HeldRequest:
    """A request as received (the body is the signed bytes, never re-encoded): the whole body,
    or when `truncated` only its first bytes; `body_size` and `body_sha256` are always the
    whole body's (by default, computed from `body`)."""

    provider: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    url: str
    received_at: datetime
    body_size: int = attrs.field(
        default=attrs.Factory(lambda self: len(self.body), takes_self=True)
    )
    body_sha256: str = attrs.field(
        default=attrs.Factory(lambda self: _sha256(self.body), takes_self=True)
    )

    @property
    def truncated(self) -> bool:
        """Only a prefix of the body was kept: the request cannot be run again."""
        return self.body_size > len(self.body)

    def prefix(self, keep: int) -> HeldRequest:
        """The same request keeping at most its first `keep` bytes (size and digest kept)."""
        return self if len(self.body) <= keep else attrs.evolve(self, body=self.body[:keep])

    @property
    def quarantine_id(self) -> UUID:
        return uuid5(name_of("quarantine", self.provider, self.url, self.body_sha256))


def _upcast_request(request: dict[str, Any]) -> None:
    """A v1 hold kept the whole body: its size and digest are the kept bytes'."""
    from engage_core.serialisation import converter  # the converter that stored the bytes

    body = converter.structure(request["body"], bytes)
    request.setdefault("body_size", len(body))
    request.setdefault("body_sha256", _sha256(body))


@attrs.frozen
class Problem:
    """Why (part of) a request was not applied: `index` names the element of a batch, None the
    whole request."""

    index: int | None
    reason: str


@attrs.frozen
class Hold:
    """What to keep of a request that was not (wholly) applied."""

    request: HeldRequest
    problems: tuple[Problem, ...]
    refused: bool  # nothing of it was applied
    # refused because its signature did not verify (or could not be checked): whoever sent it
    # is unknown, so it must never be applied without a verified signature unless an operator
    # names it
    unauthenticated: bool = False


@attrs.frozen(kw_only=True)
class QuarantineEvent(DomainEvent):
    """Fields every quarantine event has."""


@attrs.frozen(kw_only=True)
class RequestQuarantined(QuarantineEvent):
    """A request first held: the whole of it, and what was wrong."""

    TOPIC: ClassVar[str] = "engage.quarantine.RequestQuarantined"
    # v2: the request records its whole body's size and SHA-256 (its body may be a prefix)
    class_version: ClassVar[int] = 2

    request: HeldRequest
    refused: bool  # nothing of it was applied (else only the elements in `problems`)
    problems: tuple[Problem, ...]
    unauthenticated: bool = False

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        _upcast_request(state["request"])


@attrs.frozen(kw_only=True)
class RequestHeldAgain(QuarantineEvent):
    """The same request (same provider, URL and body) arrived and was held again."""

    TOPIC: ClassVar[str] = "engage.quarantine.RequestHeldAgain"
    # v2: `body`, the whole body when the entry had kept only a prefix and this arrival was
    # held whole (its signature verified): the entry can be run again from then on
    class_version: ClassVar[int] = 2

    received_at: datetime
    headers: tuple[tuple[str, str], ...]  # this arrival's (a provider may sign a retry anew)
    refused: bool
    problems: tuple[Problem, ...]
    unauthenticated: bool = False
    body: bytes | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("body", None)


@attrs.frozen(kw_only=True)
class RequestRetried(QuarantineEvent):
    """An operator ran the held request again; no problems left means it is released."""

    TOPIC: ClassVar[str] = "engage.quarantine.RequestRetried"

    refused: bool
    problems: tuple[Problem, ...]
    verified: bool  # False when the operator skipped signature verification
    unauthenticated: bool = False

    @property
    def released(self) -> bool:
        return not self.problems


QUARANTINE_EVENT_CLASSES: tuple[type[QuarantineEvent], ...] = (
    RequestQuarantined,
    RequestHeldAgain,
    RequestRetried,
)


@attrs.frozen
class HeldEntry:
    """One held request as an operator sees it."""

    id: UUID
    version: int
    request: HeldRequest  # with the latest arrival's headers and time
    refused: bool
    problems: tuple[Problem, ...]  # the latest reasons (after the last attempt)
    times_held: int  # arrivals of this very request that were held
    retries: int
    released: bool
    last_changed_at: datetime
    unauthenticated: bool = False  # the latest attempt's signature did not verify
    last_retry_verified: bool | None = None  # None: never retried


def evolve_held(entry: HeldEntry | None, event: QuarantineEvent) -> HeldEntry:
    """One event onto a held entry (pure)."""
    version, at = event.originator_version, event.recorded_at
    if isinstance(event, RequestQuarantined):
        return HeldEntry(
            event.originator_id, version, event.request, event.refused, event.problems,
            times_held=1, retries=0, released=False, last_changed_at=at,
            unauthenticated=event.unauthenticated,
        )  # fmt: skip
    if entry is None:
        raise ValueError(f"{type(event).__name__} before RequestQuarantined")
    if isinstance(event, RequestHeldAgain):
        request = attrs.evolve(entry.request, headers=event.headers, received_at=event.received_at)
        if event.body is not None:
            request = attrs.evolve(request, body=event.body)
        return attrs.evolve(
            entry, version=version, request=request, refused=event.refused,
            problems=event.problems, times_held=entry.times_held + 1, released=False,
            last_changed_at=at, unauthenticated=event.unauthenticated,
        )  # fmt: skip
    if isinstance(event, RequestRetried):
        return attrs.evolve(
            entry, version=version, refused=event.refused, problems=event.problems,
            retries=entry.retries + 1, released=event.released, last_changed_at=at,
            unauthenticated=event.unauthenticated, last_retry_verified=event.verified,
        )  # fmt: skip
    raise TypeError(f"not a quarantine event: {type(event).__name__}")


def fold_held(events: Iterable[QuarantineEvent]) -> HeldEntry | None:
    entry: HeldEntry | None = None
    for event in events:
        entry = evolve_held(entry, event)
    return entry


def decide_hold(entry: HeldEntry | None, hold: Hold, *, recorded_at: datetime) -> QuarantineEvent:
    """The event holding a request (first time, or again)."""
    request = hold.request
    if entry is None:
        return RequestQuarantined(
            originator_id=request.quarantine_id, originator_version=1, recorded_at=recorded_at,
            request=request, refused=hold.refused, problems=hold.problems,
            unauthenticated=hold.unauthenticated,
        )  # fmt: skip
    # a prefix kept before is completed by an arrival that brought the whole body
    whole = entry.request.truncated and not request.truncated
    return RequestHeldAgain(
        originator_id=entry.id, originator_version=entry.version + 1, recorded_at=recorded_at,
        received_at=request.received_at, headers=request.headers, refused=hold.refused,
        problems=hold.problems, unauthenticated=hold.unauthenticated,
        body=request.body if whole else None,
    )  # fmt: skip


def decide_retry(
    entry: HeldEntry, outcome: Hold, *, verified: bool, recorded_at: datetime
) -> RequestRetried:
    """The event recording an operator's retry of a held request and what remained wrong
    (`outcome`: what the retry would hold; no problems when everything applied)."""
    return RequestRetried(
        originator_id=entry.id, originator_version=entry.version + 1, recorded_at=recorded_at,
        refused=outcome.refused, problems=outcome.problems, verified=verified,
        unauthenticated=outcome.unauthenticated,
    )  # fmt: skip
