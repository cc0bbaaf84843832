"""A contact's suppression aggregate as immutable state, folded from its events by a pure
`evolve` (the functional-core shape of `engage_core.message` and `engage_core.consent`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import singledispatch
from uuid import UUID

import attrs

from engage_core.consent.contacts import ContactKey
from engage_core.suppression.events import (
    SuppressionChanged,
    SuppressionEvent,
    SuppressionFactNoted,
    SuppressionLifted,
)
from engage_core.suppression.facts import FactKind, SuppressionFact
from engage_core.suppression.policy import Lift, Suppression

__all__ = ["SuppressionRecord", "evolve", "fold"]


@attrs.frozen
class SuppressionRecord:
    """Everything known about a contact's suppression: every fact noted (in the order noted),
    every lift, the suppression derived last (None: not suppressed) and the policy it was
    derived under, and every change with its cause."""

    id: UUID
    version: int
    contact: ContactKey
    facts: tuple[SuppressionFact, ...] = ()
    keys: frozenset[tuple[UUID, str, FactKind]] = frozenset()
    lifts: tuple[Lift, ...] = ()
    current: Suppression | None = None
    policy: str | None = None
    changes: tuple[SuppressionChanged, ...] = ()

    def has(self, fact: SuppressionFact) -> bool:
        """Whether this fact (the same report) is noted already."""
        return fact.key in self.keys

    def as_of(self, moment: datetime) -> Suppression | None:
        """The suppression as recorded at `moment`: what Engage answered then."""
        held: Suppression | None = None
        for change in self.changes:
            if change.recorded_at > moment:
                break
            held = change.after
        return held


@singledispatch
def _apply(event: SuppressionEvent, state: SuppressionRecord) -> SuppressionRecord:
    raise TypeError(f"not a suppression event: {type(event).__name__}")


@_apply.register
def _noted(event: SuppressionFactNoted, state: SuppressionRecord) -> SuppressionRecord:
    return attrs.evolve(state, facts=(*state.facts, event.fact), keys=state.keys | {event.fact.key})


@_apply.register
def _lifted(event: SuppressionLifted, state: SuppressionRecord) -> SuppressionRecord:
    return attrs.evolve(state, lifts=(*state.lifts, event.lift))


@_apply.register
def _changed(event: SuppressionChanged, state: SuppressionRecord) -> SuppressionRecord:
    return attrs.evolve(
        state, current=event.after, policy=event.policy, changes=(*state.changes, event)
    )


def evolve(state: SuppressionRecord | None, event: SuppressionEvent) -> SuppressionRecord:
    """The state after one more event."""
    if state is None:
        contact = ContactKey(event.channel, event.key)
        state = SuppressionRecord(event.originator_id, 0, contact)
    return attrs.evolve(_apply(event, state), version=event.originator_version)


def fold(
    events: Iterable[SuppressionEvent], state: SuppressionRecord | None = None
) -> SuppressionRecord | None:
    """The state after these events (None: no events, no suppression ever considered)."""
    for event in events:
        state = evolve(state, event)
    return state
