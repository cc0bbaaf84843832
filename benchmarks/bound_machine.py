"""Contender (b) of the fold workload: each message a model bound to a `transitions` Machine.

The machines are built from the very declarations `engage_core.lifecycles` compiles its tables
from (`STATES`, `TRANSITIONS` and `MACHINE.initial` of `sms`, `email`, `whatsapp`). Decisions
come from `benchmarks.rules.decide`, as for the other contenders; the machine then *executes*
them: an advance fires the declared trigger of every step on the shortest path (so a report that
skips statuses fires one trigger per skipped step, as a bound model must), a conflict won by the
report jumps with `Machine.set_state` (transitions has no edge for it), a late report fires
nothing. The shortest path (`Lifecycle.inferred_between`) is only the way the machine has to
walk: what the message is known to have passed is the decision's, from what the report proves.
Bookkeeping (engagement, dedup keys, known statuses) is `benchmarks.rules.record`, as for (a).

Two ways to bind many models (`research/libraries.md` §4.1): a Machine per model (A, 15.5 s
and 480 MB for 20k models there) or one shared Machine per channel with `add_model` (B, 4.8 s
and 186 MB for 20k, cheaper triggers, but O(n²) in the number of models because `add_model`
checks membership in a list). Both are here; `fold.py` says which one it reports and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import ModuleType
from typing import Any
from uuid import UUID

from transitions import Machine

from benchmarks.rules import Decision, decide, record, record_duplicate
from engage_core.channels import Channel
from engage_core.lifecycles import Lifecycle, Relation, email, lifecycle, sms, whatsapp
from engage_core.message.events import Outcome
from engage_core.message.state import Engagement
from engage_core.observations import Observation

DECLARATIONS: Mapping[Channel, ModuleType] = {
    Channel.SMS: sms,
    Channel.EMAIL: email,
    Channel.WHATSAPP: whatsapp,
}


class MachineMessage:
    """A plain model: transitions adds `state`, one method per trigger and `is_<state>` to it."""

    state: str

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.seen: set[str] = set()
        self.known: set[str] = set()
        self.engagement: dict[str, Engagement] = {}


def _machine(channel: Channel, model: MachineMessage | None, initial: str) -> Any:
    declared = DECLARATIONS[channel]
    return Machine(
        model=model,
        states=declared.STATES,
        transitions=declared.TRANSITIONS,
        initial=initial,
        auto_transitions=False,
    )


_NONE: frozenset[str] = frozenset()  # a new message has seen and proved nothing

Binder = Callable[[MachineMessage, str], Any]  # binds a new model at a status, returns its Machine


def per_message_binder() -> Binder:
    """Option A: a Machine of its own for every message."""

    def bind(model: MachineMessage, initial: str) -> Any:
        return _machine(model.channel, model, initial)

    return bind


def shared_binder() -> Binder:
    """Option B: one Machine per channel, built now (empty), every message `add_model`-ed."""
    machines = {
        channel: _machine(channel, None, declared.MACHINE.initial)
        for channel, declared in DECLARATIONS.items()
    }

    def bind(model: MachineMessage, initial: str) -> Any:
        machine = machines[model.channel]
        machine.add_model(model, initial=initial)
        return machine

    return bind


def _execute(
    machine: Any, model: MachineMessage, rules: Lifecycle, decision: Decision, current: str
) -> None:
    """Move the bound model as the decision says, through the machine."""
    if decision.relation is Relation.ADVANCE:
        middle = rules.inferred_between(current, decision.target)
        for step in zip((current, *middle), (*middle, decision.target), strict=True):
            getattr(model, rules.triggers[step])()
    elif decision.relation is Relation.CONFLICT and decision.status_after != current:
        machine.set_state(decision.status_after, model)


def _observe(
    machine: Any, model: MachineMessage, observation: Observation, recorded_at: datetime
) -> None:
    rules = lifecycle(model.channel)
    current = model.state
    decision = decide(rules, current, model.seen, model.known, observation, recorded_at)
    if decision.outcome is Outcome.DUPLICATE:
        record_duplicate(model.seen, observation.dedup_keys)  # the status stays
        return
    _execute(machine, model, rules, decision, current)
    _book(model, rules, observation, decision, recorded_at)


def _book(
    model: MachineMessage,
    rules: Lifecycle,
    observation: Observation,
    decision: Decision,
    recorded_at: datetime,
) -> None:
    assert decision.status_after is not None
    record(
        model.engagement,
        model.seen,
        model.known,
        rules,
        recorded_at=recorded_at,
        status=observation.status,
        occurred_at=decision.occurred_at,
        dedup_keys=observation.dedup_keys,
        inferred=decision.inferred,
        status_after=decision.status_after,
    )


def fold_machines(
    routed: Sequence[tuple[UUID, Observation]], recorded_at: datetime, bind: Binder
) -> dict[UUID, MachineMessage]:
    """Apply every observation to its message's bound model; every message's model."""
    bound: dict[UUID, tuple[Any, MachineMessage]] = {}
    for message_id, observation in routed:
        entry = bound.get(message_id)
        if entry is None:
            model = MachineMessage(observation.channel)
            rules = lifecycle(observation.channel)
            decision = decide(rules, None, _NONE, _NONE, observation, recorded_at)
            assert decision.status_after is not None
            bound[message_id] = (bind(model, decision.status_after), model)
            _book(model, rules, observation, decision, recorded_at)
        else:
            _observe(*entry, observation, recorded_at)
    return {message_id: model for message_id, (_, model) in bound.items()}
