"""A message's state, and what a query shows of it: immutable attrs values built from events.

`MessageState` is what decisions need (status, dedup keys, engagement, the send record), folded
by `evolve` in O(1) per event apart from the dedup set. The history a person reads is derived
from the same events on demand (`message.history`), so deciding never pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import attrs

from engage_core.channels import Channel
from engage_core.observations import NO_FACTS, ProviderFacts, Send


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
    facts: ProviderFacts = NO_FACTS  # what the report says, under the core's names
    # the time the report claimed, when the clock-skew policy recorded `occurred_at` instead
    claimed_at: datetime | None = None


@attrs.frozen
class MessageState:
    """Everything decisions about one message need: `seen` holds the dedup keys of every input
    so far, `known` the statuses it is known to have passed (reported, or proved by a report),
    `reported` the statuses a provider itself reported (so our own send record, which stands
    for `processed`, never makes the provider's first `processed` report read as late)."""

    id: UUID
    version: int
    channel: Channel
    provider: str
    provider_message_id: str
    status: str | None = None
    send: Send | None = None
    engagement: Mapping[str, Engagement] = attrs.field(factory=dict)
    seen: frozenset[str] = frozenset()
    known: frozenset[str] = frozenset()
    reported: frozenset[str] = frozenset()


class MessageView(Protocol):
    """What deciding reads of a message: a `MessageState`, or the `Draft` a batch folds."""

    @property
    def id(self) -> UUID: ...
    @property
    def version(self) -> int: ...
    @property
    def status(self) -> str | None: ...
    @property
    def seen(self) -> frozenset[str] | set[str]: ...
    @property
    def known(self) -> frozenset[str] | set[str]: ...
    @property
    def reported(self) -> frozenset[str] | set[str]: ...


@attrs.frozen
class Message:
    """What a query answers about a message: its state and its whole history."""

    state: MessageState
    history: tuple[HistoryEntry, ...]

    @property
    def id(self) -> UUID:
        return self.state.id

    @property
    def status(self) -> str | None:
        return self.state.status
