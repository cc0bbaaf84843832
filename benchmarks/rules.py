"""The lifecycle rule of `engage_core.message.decide`, restated over the compiled tables.

The two comparison implementations of the fold workload (an eventsourcing-native aggregate and a
`transitions`-bound model) must apply exactly the rule the functional core applies, or the
benchmark would compare different work. Both call `decide` here, which reads the same
`engage_core.lifecycles` tables (`relation`, `winner`, `implied`, `engagement_implies`) that
`decide.py` reads, and the same state: a report sharing any dedup key with the message's `seen`
ones is a duplicate, and what a report proves (`implied`) minus the statuses the message is
already `known` to have passed is what it infers. The provider's time is bounded by the same
clock-skew policy (`engage_core.clock.DEFAULT_CLOCK_SKEW`): a time beyond it counts as the
recorded time, which is what an engagement tally keeps. Only the mechanism that then records the
decision differs. `record` and `record_duplicate` are the bookkeeping `evolve` does for an
`Observed` and a `DuplicateIgnored` event (engagement tallies, dedup keys, known statuses, the
status; `MessageState` keeps no history, which is derived from the events when a message is
queried), done in place on the same value objects. `fold.py` checks that all three contenders
end every message with the same status, dedup keys, known statuses and engagement.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import NamedTuple

from engage_core.clock import DEFAULT_CLOCK_SKEW
from engage_core.lifecycles import Lifecycle, Relation
from engage_core.message.events import Outcome
from engage_core.message.state import Engagement
from engage_core.observations import Observation

_OUTCOMES = {
    Relation.ADVANCE: Outcome.APPLIED,
    Relation.LATE: Outcome.LATE,
    Relation.CONFLICT: Outcome.CONFLICT,
}


class Decision(NamedTuple):
    """What one observation does to a message whose status is `current`.

    `target` is the status the report stands for (the implied status for an engagement);
    `status_after` is where the message ends up; `inferred` lists the statuses the report proves
    that the message was not yet known to have passed; `occurred_at` is the report's time as
    recorded (clamped by the clock-skew policy).
    """

    outcome: Outcome
    relation: Relation | None  # None for a duplicate
    target: str
    status_after: str | None
    inferred: tuple[str, ...]
    occurred_at: datetime | None


def decide(
    rules: Lifecycle,
    current: str | None,
    seen: Set[str],
    known: Set[str],
    observation: Observation,
    recorded_at: datetime,
) -> Decision:
    """The decision `decide_observation` makes, without building its event."""
    if not seen.isdisjoint(observation.dedup_keys):
        return Decision(
            Outcome.DUPLICATE, None, observation.status, current, (), observation.occurred_at
        )
    engagement = rules.is_engagement(observation.status)
    if engagement:
        target = rules.engagement_implies
        assert target is not None
        proved: tuple[str, ...] = (*rules.implied[target], target)
    else:
        target = observation.status
        proved = rules.implied[target]
    relation = rules.relation(current, target)
    if relation is Relation.ADVANCE:
        status_after = target
    elif relation is Relation.LATE:
        assert current is not None
        status_after = current
    else:
        assert current is not None
        status_after = rules.winner(current, target)
    if engagement:
        outcome = Outcome.CONFLICT if relation is Relation.CONFLICT else Outcome.APPLIED
    else:
        outcome = _OUTCOMES[relation]
    inferred = tuple(status for status in proved if status not in known)
    occurred_at = DEFAULT_CLOCK_SKEW.occurred(observation.occurred_at, recorded_at)
    return Decision(outcome, relation, target, status_after, inferred, occurred_at)


def record(
    engagement: dict[str, Engagement],
    seen: set[str],
    known: set[str],
    rules: Lifecycle,
    *,
    recorded_at: datetime,
    status: str,
    occurred_at: datetime | None,
    dedup_keys: tuple[str, ...],
    inferred: tuple[str, ...],
    status_after: str,
) -> str:
    """Book an applied (non-duplicate) observation in place; returns the status after it."""
    known.update(inferred)
    if rules.is_engagement(status):
        at = occurred_at or recorded_at
        tally = engagement.get(status)
        engagement[status] = tally.add(at) if tally else Engagement(1, at, at)
    else:
        known.add(status)
    seen.update(dedup_keys)
    return status_after


def record_duplicate(seen: set[str], dedup_keys: tuple[str, ...]) -> None:
    """Book a duplicate in place: a key new to the message joins the seen ones."""
    seen.update(dedup_keys)
