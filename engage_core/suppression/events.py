"""The persisted facts of a contact's suppression: frozen attrs events with explicit topics.

One aggregate per contact vector (`facts.suppression_id`). Every fact a policy may read is
kept (`SuppressionFactNoted`), whether or not today's policy acts on it, so a new version of a
policy can be run over the whole history; every change of the derived state is recorded with
its before, after, the policy it was derived under and its cause (`SuppressionChanged`), the
corrective ones a re-derivation makes included; an operator's lift is kept with who and why
(`SuppressionLifted`). None of them is published downstream: suppression is no Segment event.
"""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from engage_core.channels import Channel
from engage_core.events import DomainEvent
from engage_core.suppression.facts import SuppressionFact
from engage_core.suppression.policy import Lift, Suppression

__all__ = [
    "SUPPRESSION_EVENT_CLASSES",
    "Cause",
    "SuppressionChanged",
    "SuppressionEvent",
    "SuppressionFactNoted",
    "SuppressionLifted",
]


class Cause(enum.Enum):
    """What made a suppression change: a new fact, an operator's lift, a re-derivation."""

    FACT = "fact"
    LIFT = "lift"
    REDERIVE = "rederive"


@attrs.frozen(kw_only=True)
class SuppressionEvent(DomainEvent):
    """Fields every suppression event has: the contact vector."""

    channel: Channel  # stored as its value (`email`), read in any case
    key: str


@attrs.frozen(kw_only=True)
class SuppressionFactNoted(SuppressionEvent):
    """A report a policy may act on, about this contact."""

    TOPIC: ClassVar[str] = "engage.suppression.FactNoted"

    fact: SuppressionFact


@attrs.frozen(kw_only=True)
class SuppressionLifted(SuppressionEvent):
    """An operator lifted the contact's suppression: facts up to `lift.at` no longer count."""

    TOPIC: ClassVar[str] = "engage.suppression.Lifted"

    lift: Lift


@attrs.frozen(kw_only=True)
class SuppressionChanged(SuppressionEvent):
    """The derived suppression changed (`after` None: no longer suppressed), under `policy`
    (`policy@vN`), because of `cause` (`cause_id`: the fact's report id, the operator, the
    policy re-derived under)."""

    TOPIC: ClassVar[str] = "engage.suppression.Changed"

    before: Suppression | None
    after: Suppression | None
    policy: str
    cause: Cause
    cause_id: str


SUPPRESSION_EVENT_CLASSES: tuple[type[SuppressionEvent], ...] = (
    SuppressionFactNoted,
    SuppressionLifted,
    SuppressionChanged,
)
