"""Workload "status": the lifecycle step alone, compiled tables against a bound `transitions`
Machine.

The fold workload compares whole message folds, where building the event and the new state
dominates and the state machine is a small part. This one isolates the mechanism the
architecture chose (declare with `transitions`, run from compiled tables): for every observation,
only the status step (relation to the current status, the status after, the skipped steps),
without dedup keys, engagement, events or states. The tables do it as `decide` does, with
`Lifecycle.relation`, `winner` and, for the skipped steps, what the report proves (`implied`);
which of those the message was not yet known to have passed is bookkeeping against its `known`
set, left out here with the rest of the state (the fold workload has it). The machine contender
binds a model per message (shared Machines, as in the fold workload) and walks to the status,
firing the declared trigger of every step on the shortest way (`inferred_between`), and
`set_state` for a conflict the report wins. Both must end every message in the same status,
checked before timing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from benchmarks.bound_machine import MachineMessage, per_message_binder, shared_binder
from benchmarks.harness import Contender, Goal, Result, format_result, measure, reusing
from benchmarks.traffic import observation_stream
from engage_core.lifecycles import Relation, lifecycle
from engage_core.observations import Observation

TABLES = "compiled tables"
MACHINE = "transitions Machine"
GOALS = (Goal(TABLES, MACHINE, 50.0),)


def _target(observation: Observation) -> str:
    rules = lifecycle(observation.channel)
    if rules.is_engagement(observation.status):
        assert rules.engagement_implies is not None
        return rules.engagement_implies
    return observation.status


def step_tables(routed: Sequence[tuple[UUID, Observation]]) -> dict[UUID, str | None]:
    """The status step over the compiled tables; final statuses."""
    statuses: dict[UUID, str | None] = {}
    for message_id, observation in routed:
        rules = lifecycle(observation.channel)
        current = statuses.get(message_id)
        target = _target(observation)
        relation = rules.relation(current, target)
        if relation is Relation.ADVANCE:
            statuses[message_id] = target
        elif relation is Relation.CONFLICT:
            assert current is not None
            statuses[message_id] = rules.winner(current, target)
        rules.implied[target]  # the skipped steps: what the report proves, as decide reads it
    return statuses


def step_machines(routed: Sequence[tuple[UUID, Observation]], binder: Any) -> dict[UUID, str]:
    """The same step executed by models bound to Machines; final statuses."""
    bound: dict[UUID, tuple[Any, MachineMessage]] = {}
    for message_id, observation in routed:
        target = _target(observation)
        entry = bound.get(message_id)
        if entry is None:
            model = MachineMessage(observation.channel)
            bound[message_id] = (binder(model, target), model)
            continue
        machine, model = entry
        rules = lifecycle(model.channel)
        current = model.state
        relation = rules.relation(current, target)
        if relation is Relation.ADVANCE:
            middle = rules.inferred_between(current, target)
            for step in zip((current, *middle), (*middle, target), strict=True):
                getattr(model, rules.triggers[step])()
        elif relation is Relation.CONFLICT:
            winner = rules.winner(current, target)
            if winner != current:
                machine.set_state(winner, model)
    return {message_id: model.state for message_id, (_, model) in bound.items()}


def run(
    *, observations: int, seed: int, repeats: int, per_message_machines: bool = False
) -> tuple[Result, str]:
    stream = observation_stream(seed, observations)
    routed = stream.routed()
    binder = per_message_binder if per_message_machines else shared_binder
    if step_tables(routed) != step_machines(routed, binder()):
        raise AssertionError("the two status steps disagree; the comparison is not like for like")

    def tables() -> int:
        step_tables(routed)
        return len(routed)

    def machines() -> int:
        step_machines(routed, binder())  # binding is part of the mechanism's cost
        return len(routed)

    result = measure(
        "status",
        "obs/s",
        [Contender(TABLES, reusing(tables)), Contender(MACHINE, reusing(machines))],
        repeats,
    )
    label = "a Machine per message" if per_message_machines else "shared Machines"
    heading = (
        f"status: the lifecycle step alone, {len(stream):,} observations of "
        f"{stream.message_count:,} messages, seed {seed}, best of {repeats}; transitions with "
        f"{label}"
    )
    return result, format_result(result, GOALS, heading=heading)
