"""The persisted facts of a message's life: frozen attrs events with explicit, stable topics.

Each event carries the decision made when it was recorded (outcome, inferred steps, the status
after it), so replaying the log never re-validates against a lifecycle that may since have
changed. Topics are strings of our own, not module paths: moving a class never orphans records.
Bump `class_version` and add `upcast_vN_vN+1(state)` when a field changes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from engage_core.channels import Channel
from engage_core.events import DomainEvent
from engage_core.observations import Send


class Outcome(enum.Enum):
    """What an input did to its message."""

    APPLIED = "applied"  # advanced the status, or added engagement
    LATE = "late"  # an earlier (or the same) status: recorded, changes nothing
    CONFLICT = "conflict"  # incomparable with the current status: precedence decided
    DUPLICATE = "duplicate"  # the same report again (same dedup key): recorded, changes nothing


@attrs.frozen(kw_only=True)
class MessageEvent(DomainEvent):
    """Fields every message event has. `originator_*` are what eventsourcing stores as columns."""

    channel: Channel
    provider: str
    provider_message_id: str


@attrs.frozen(kw_only=True)
class SendRecorded(MessageEvent):
    """The sender recorded the message (`record_send`). Fills in what provider reports lack."""

    TOPIC: ClassVar[str] = "engage.message.SendRecorded"

    send: Send
    dedup_keys: tuple[str, ...]
    outcome: Outcome
    status_after: str


@attrs.frozen(kw_only=True)
class Observed(MessageEvent):
    """A provider reported a status or an engagement, and this is what it did."""

    TOPIC: ClassVar[str] = "engage.message.Observed"
    # v2: `claimed_at`, the time the report claimed when the clock-skew policy clamped it
    class_version: ClassVar[int] = 2

    status: str
    occurred_at: datetime | None
    event_id: str | None
    dedup_keys: tuple[str, ...]
    details: Mapping[str, Any]
    outcome: Outcome
    inferred: tuple[str, ...]  # statuses this report newly proves the message passed
    status_after: str
    # the report's own time when it was further ahead of ours than the clock-skew policy
    # allows, and `occurred_at` is when we recorded it instead (None: not clamped)
    claimed_at: datetime | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("claimed_at", None)


@attrs.frozen(kw_only=True)
class DuplicateIgnored(MessageEvent):
    """A report (or send record) seen before arrived again; kept so nothing vanishes."""

    TOPIC: ClassVar[str] = "engage.message.DuplicateIgnored"

    status: str  # the reported status, or "processed" for a repeated send record
    occurred_at: datetime | None
    dedup_keys: tuple[str, ...]  # all of them: a key new to the message joins the seen ones


MESSAGE_EVENT_CLASSES: tuple[type[MessageEvent], ...] = (SendRecorded, Observed, DuplicateIgnored)
