"""Contender (a) of the fold workload: the message lifecycle on an eventsourcing-native Aggregate.

This is option A of `research/libraries.md` §2, the road not taken: a mutable `Aggregate` whose
`@event` methods define the event classes. It follows the pattern of §4.3 (a command decides
from the lifecycle tables, then triggers one event whose body only assigns), decides with the
same rule as the functional core (`benchmarks.rules.decide`), carries the same fields on its
events, and keeps the same state as `MessageState` (status, dedup keys, known statuses,
engagement tallies), built from the same value objects. What differs is the mechanism:
metaclass-made frozen dataclass events, `trigger_event` (a timestamp per event, the kwargs copy,
`mutate`), in-place mutation and the pending-events list, against `decide_observation` +
`evolve` over immutable attrs values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from benchmarks.rules import Decision, decide, record, record_duplicate
from engage_core.channels import Channel
from engage_core.lifecycles import lifecycle
from engage_core.message.events import Outcome
from engage_core.message.state import Engagement
from engage_core.observations import Observation

_NONE: frozenset[str] = frozenset()  # a new message has seen and proved nothing


class NativeMessage(Aggregate):
    """One message, event-sourced the eventsourcing way. Created by its first observation."""

    @event("Started")
    def __init__(
        self,
        id: UUID,  # eventsourcing takes a given aggregate id only under this name
        channel: Channel,
        provider: str,
        provider_message_id: str,
        recorded_at: datetime,
        status: str,
        occurred_at: datetime | None,
        event_id: str | None,
        dedup_keys: tuple[str, ...],
        details: Mapping[str, Any],
        outcome: Outcome,
        inferred: tuple[str, ...],
        status_after: str,
    ) -> None:
        self.channel = channel
        self.provider = provider
        self.provider_message_id = provider_message_id
        self.seen: set[str] = set()
        self.known: set[str] = set()
        self.engagement: dict[str, Engagement] = {}
        self.status: str | None = record(
            self.engagement,
            self.seen,
            self.known,
            lifecycle(self.channel),
            recorded_at=recorded_at,
            status=status,
            occurred_at=occurred_at,
            dedup_keys=dedup_keys,
            inferred=inferred,
            status_after=status_after,
        )

    @classmethod
    def start(cls, message_id: UUID, observation: Observation, recorded_at: datetime) -> Any:
        """A new message from its first observation (there is nothing to be a duplicate of)."""
        decision = decide(
            lifecycle(observation.channel), None, _NONE, _NONE, observation, recorded_at
        )
        return cls(
            id=message_id,
            channel=observation.channel,
            provider=observation.provider,
            provider_message_id=observation.provider_message_id,
            **_payload(observation, decision, recorded_at),
        )

    def observe(self, observation: Observation, recorded_at: datetime) -> None:
        """Command: decide from the tables first, then trigger the one event recording it."""
        rules = lifecycle(self.channel)
        decision = decide(rules, self.status, self.seen, self.known, observation, recorded_at)
        if decision.outcome is Outcome.DUPLICATE:
            self._duplicate_ignored(
                channel=observation.channel,
                provider=observation.provider,
                provider_message_id=observation.provider_message_id,
                recorded_at=recorded_at,
                status=observation.status,
                occurred_at=observation.occurred_at,
                dedup_keys=observation.dedup_keys,
            )
            return
        self._observed(
            channel=observation.channel,
            provider=observation.provider,
            provider_message_id=observation.provider_message_id,
            **_payload(observation, decision, recorded_at),
        )

    @event("Observed")
    def _observed(
        self,
        channel: Channel,
        provider: str,
        provider_message_id: str,
        recorded_at: datetime,
        status: str,
        occurred_at: datetime | None,
        event_id: str | None,
        dedup_keys: tuple[str, ...],
        details: Mapping[str, Any],
        outcome: Outcome,
        inferred: tuple[str, ...],
        status_after: str,
    ) -> None:
        self.status = record(
            self.engagement,
            self.seen,
            self.known,
            lifecycle(self.channel),
            recorded_at=recorded_at,
            status=status,
            occurred_at=occurred_at,
            dedup_keys=dedup_keys,
            inferred=inferred,
            status_after=status_after,
        )

    @event("DuplicateIgnored")
    def _duplicate_ignored(
        self,
        channel: Channel,
        provider: str,
        provider_message_id: str,
        recorded_at: datetime,
        status: str,
        occurred_at: datetime | None,
        dedup_keys: tuple[str, ...],
    ) -> None:
        """The status stays: the event (and the version it takes) is the record, and a key new
        to the message joins the seen ones."""
        record_duplicate(self.seen, dedup_keys)


def _payload(observation: Observation, decision: Decision, recorded_at: datetime) -> dict[str, Any]:
    assert decision.status_after is not None
    return {
        "recorded_at": recorded_at,
        "status": observation.status,
        "occurred_at": decision.occurred_at,
        "event_id": observation.event_id,
        "dedup_keys": observation.dedup_keys,
        "details": observation.details,
        "outcome": decision.outcome,
        "inferred": decision.inferred,
        "status_after": decision.status_after,
    }


def fold_native(
    routed: Sequence[tuple[UUID, Observation]], recorded_at: datetime
) -> dict[UUID, NativeMessage]:
    """Apply every observation to its message's aggregate; every message's aggregate."""
    messages: dict[UUID, NativeMessage] = {}
    for message_id, observation in routed:
        message = messages.get(message_id)
        if message is None:
            messages[message_id] = NativeMessage.start(message_id, observation, recorded_at)
        else:
            message.observe(observation, recorded_at)
    return messages
