"""A message's state: immutable attrs values built by folding its events (see `evolve`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from engage_core.channels import Channel
from engage_core.observations import Send


@attrs.frozen
class Engagement:
    """A grow-only tally of one engagement kind: how many, first and last time."""

    count: int
    first_at: datetime
    last_at: datetime

    def add(self, at: datetime) -> Engagement:
        return Engagement(self.count + 1, min(self.first_at, at), max(self.last_at, at))


@attrs.frozen
class HistoryEntry:
    """One line of a message's history, with its kind: applied, inferred, late, conflict or
    duplicate."""

    kind: str
    status: str
    recorded_at: datetime
    occurred_at: datetime | None = None
    event_id: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class MessageState:
    """Everything known about one message. `seen` holds the dedup keys of accepted inputs."""

    id: UUID
    version: int
    channel: Channel
    provider: str
    provider_message_id: str
    status: str | None = None
    send: Send | None = None
    engagement: Mapping[str, Engagement] = attrs.field(factory=dict)
    seen: frozenset[str] = frozenset()
    history: tuple[HistoryEntry, ...] = ()
