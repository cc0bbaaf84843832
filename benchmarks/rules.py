"""The lifecycle rule of `engage_core.message.decide`, restated over the compiled tables.

The two comparison implementations of the fold workload (an eventsourcing-native aggregate and a
`transitions`-bound model) must apply exactly the rule the functional core applies, or the
benchmark would compare different work. Both call `decide` here, which reads the same
`engage_core.lifecycles` tables (`relation`, `winner`, `inferred_between`) that `decide.py` reads;
only the mechanism that then records the decision differs. `record` is the bookkeeping `evolve`
does for an `Observed` event (engagement tallies, dedup keys, the status; `MessageState` keeps no
history, which is derived from the events when a message is queried), done in place on the same
value objects. `fold.py` checks that all three end with the same status for every message.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime
from typing import NamedTuple

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
    `status_after` is where the message ends up; `inferred` lists the skipped statuses.
    """

    outcome: Outcome
    relation: Relation | None  # None for a duplicate
    target: str
    status_after: str | None
    inferred: tuple[str, ...]


def decide(
    rules: Lifecycle, current: str | None, seen: Container[str], observation: Observation
) -> Decision:
    """The decision `decide_observation` makes, without building its event."""
    if observation.dedup_key in seen:
        return Decision(Outcome.DUPLICATE, None, observation.status, current, ())
    engagement = rules.is_engagement(observation.status)
    if engagement:
        target = rules.engagement_implies
        assert target is not None
    else:
        target = observation.status
    relation = rules.relation(current, target)
    if relation is Relation.ADVANCE:
        status_after = target
        inferred = rules.inferred_between(current, target)
        if engagement:
            inferred = (*inferred, target)
    elif relation is Relation.LATE:
        assert current is not None
        status_after, inferred = current, ()
    else:
        assert current is not None
        status_after, inferred = rules.winner(current, target), ()
    if engagement:
        outcome = Outcome.CONFLICT if relation is Relation.CONFLICT else Outcome.APPLIED
    else:
        outcome = _OUTCOMES[relation]
    return Decision(outcome, relation, target, status_after, inferred)


def record(
    engagement: dict[str, Engagement],
    seen: set[str],
    rules: Lifecycle,
    *,
    recorded_at: datetime,
    status: str,
    occurred_at: datetime | None,
    dedup_key: str,
    status_after: str,
) -> str:
    """Book an applied (non-duplicate) observation in place; returns the status after it."""
    if rules.is_engagement(status):
        at = occurred_at or recorded_at
        tally = engagement.get(status)
        engagement[status] = tally.add(at) if tally else Engagement(1, at, at)
    seen.add(dedup_key)
    return status_after
