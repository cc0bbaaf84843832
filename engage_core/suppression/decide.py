"""Deciding a contact's suppression events: pure functions of its state, a policy and a time.

Each returns the events to record (an empty list: nothing to record) and never writes. A
change is recorded only when the derived suppression differs from the one last recorded, so
every decision here is idempotent: the same fact again, or a re-derivation under the policy
already applied, records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict
from uuid import UUID

from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.suppression.events import (
    Cause,
    SuppressionChanged,
    SuppressionEvent,
    SuppressionFactNoted,
    SuppressionLifted,
)
from engage_core.suppression.facts import SuppressionFact
from engage_core.suppression.policy import Lift, SuppressionPolicy, derive
from engage_core.suppression.state import SuppressionRecord, evolve

__all__ = ["decide_facts", "decide_lift", "decide_rederive"]


class _Common(TypedDict):
    originator_id: UUID
    originator_version: int
    recorded_at: datetime
    channel: Channel
    key: str


class _Recording:
    """Events for one aggregate, numbered on from its state, each folded as it is made."""

    def __init__(self, state: SuppressionRecord | None, aggregate: UUID, contact: ContactKey):
        self.state, self.aggregate, self.contact = state, aggregate, contact
        self.events: list[SuppressionEvent] = []

    def _common(self, now: datetime) -> _Common:
        version = (self.state.version if self.state is not None else 0) + 1
        return {"originator_id": self.aggregate, "originator_version": version,
                "recorded_at": now, "channel": self.contact.channel,
                "key": self.contact.key}  # fmt: skip

    def record(self, event: SuppressionEvent) -> None:
        self.state = evolve(self.state, event)
        self.events.append(event)

    def note(self, fact: SuppressionFact, now: datetime) -> None:
        self.record(SuppressionFactNoted(fact=fact, **self._common(now)))

    def lift(self, lift: Lift, now: datetime) -> None:
        self.record(SuppressionLifted(lift=lift, **self._common(now)))

    def derive(self, policy: SuppressionPolicy, now: datetime, cause: Cause, cause_id: str) -> None:
        """Record a change if `policy` over every fact and lift differs from what holds."""
        state = self.state
        before = state.current if state is not None else None
        after = derive(policy, state.facts, state.lifts) if state is not None else None
        if after == before:
            return
        self.record(SuppressionChanged(
            before=before, after=after, policy=policy.tag, cause=cause, cause_id=cause_id,
            **self._common(now),
        ))  # fmt: skip


def decide_facts(
    state: SuppressionRecord | None,
    aggregate: UUID,
    contact: ContactKey,
    facts: Sequence[SuppressionFact],
    policy: SuppressionPolicy,
    now: datetime,
) -> list[SuppressionEvent]:
    """Note each fact not noted before, and record the change, if any, each one makes."""
    recording = _Recording(state, aggregate, contact)
    for fact in facts:
        if recording.state is not None and recording.state.has(fact):
            continue
        recording.note(fact, now)
        recording.derive(policy, now, Cause.FACT, fact.event_id)
    return recording.events


def decide_lift(
    state: SuppressionRecord | None,
    aggregate: UUID,
    contact: ContactKey,
    lift: Lift,
    policy: SuppressionPolicy,
    now: datetime,
) -> list[SuppressionEvent]:
    """Record an operator's lift (always: it sets the facts before it aside, suppressed or
    not) and the change it makes."""
    recording = _Recording(state, aggregate, contact)
    recording.lift(lift, now)
    recording.derive(policy, now, Cause.LIFT, lift.operator)
    return recording.events


def decide_rederive(
    state: SuppressionRecord, policy: SuppressionPolicy, now: datetime
) -> list[SuppressionEvent]:
    """The corrective change, if `policy` over the whole history answers otherwise."""
    recording = _Recording(state, state.id, state.contact)
    recording.derive(policy, now, Cause.REDERIVE, policy.tag)
    return recording.events
