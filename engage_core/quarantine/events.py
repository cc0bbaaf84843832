"""The quarantine's persisted events (explicit, stable topics; upcasters for old versions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import attrs

from engage_core.events import DomainEvent
from engage_core.quarantine.request import HeldRequest, Problem, upcast_held_request


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
        upcast_held_request(state["request"])


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
