"""What was received and what was wrong with it: the held request and the reasons.

A request held without a verified signature (a bad or missing one, or a body over its size
limit, which is never verified) keeps only its first bytes, with its full size and SHA-256:
whoever sent it is unknown, and unsigned junk must not fill the disk. Such a hold says what
came but cannot be run again (`HeldRequest.truncated`); the provider's own retries, answered
with an error, bring the request back whole.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

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


def upcast_held_request(request: dict[str, Any]) -> None:
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
