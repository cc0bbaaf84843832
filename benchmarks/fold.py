"""Workload "fold": the pure lifecycle fold, in observations/s, against two other mechanisms.

The functional core (`decide_observation` then `evolve`, over immutable attrs state) is run side
by side with (a) the same lifecycle on an eventsourcing-native `Aggregate` (`benchmarks.native`)
and (b) each message a model bound to a `transitions` Machine (`benchmarks.bound_machine`), all
three over the same seeded observation stream, keeping every message's state in a dict. No I/O:
this is the cost of the domain alone, what a simulation, a property test or a projection rebuild
pays per observation. The three must agree on every message's final state (status, dedup keys,
known statuses, engagement tallies); that is checked once, untimed, before the measurement.

For (b) shared Machines (one per channel, `add_model` per message) are reported by default:
`research/libraries.md` §4.1 measured them the cheaper way to bind many models (4.8 s against
15.5 s for 20k models; 15.2 µs against 17.9 µs a trigger), so they are the fairer, stronger
baseline; they are the cheaper here too, at the sizes run (`--per-message-machines` shows
the other).
Their `add_model` tests membership in a list, O(n²) in live models, so the ratio against them
grows with the number of messages: compare figures only at the same `--observations`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import UUID

from benchmarks.bound_machine import (
    MachineMessage,
    fold_machines,
    per_message_binder,
    shared_binder,
)
from benchmarks.harness import (
    Contender,
    Goal,
    Result,
    format_result,
    measure,
    profile_call,
    reusing,
)
from benchmarks.native import NativeMessage, fold_native
from benchmarks.traffic import observation_stream
from engage_core.message.decide import decide_observation
from engage_core.message.evolve import evolve
from engage_core.message.state import Engagement, MessageState
from engage_core.observations import Observation

FOLD = "functional fold"
NATIVE = "eventsourcing Aggregate"
MACHINE = "transitions Machine"
GOALS = (Goal(FOLD, NATIVE, 3.0), Goal(FOLD, MACHINE, 50.0))

# One decision time for the whole run, as `EngageApplication` uses one per input batch.
RECORDED_AT = datetime(2026, 1, 2, tzinfo=UTC)


def fold_functional(routed: Sequence[tuple[UUID, Observation]]) -> dict[UUID, MessageState]:
    """The functional core: decide one event from the state, fold it in; every message's state."""
    states: dict[UUID, MessageState] = {}
    for message_id, observation in routed:
        state = states.get(message_id)
        decided = decide_observation(state, observation, recorded_at=RECORDED_AT)
        states[message_id] = evolve(state, decided)
    return states


class Kept(NamedTuple):
    """What every contender keeps of a message, in one comparable form."""

    status: str | None
    seen: frozenset[str]
    known: frozenset[str]
    engagement: Mapping[str, Engagement]


def _kept(message: MessageState | NativeMessage | MachineMessage) -> Kept:
    status = message.state if isinstance(message, MachineMessage) else message.status
    return Kept(status, frozenset(message.seen), frozenset(message.known), dict(message.engagement))


def _check_agreement(
    outcomes: Mapping[str, Mapping[UUID, MessageState | NativeMessage | MachineMessage]],
) -> None:
    reference = {m: _kept(message) for m, message in outcomes[FOLD].items()}
    for name, messages in outcomes.items():
        kept = {m: _kept(message) for m, message in messages.items()}
        differing = [m for m in reference if kept.get(m) != reference[m]]
        if differing or len(kept) != len(reference):
            raise AssertionError(
                f"{name} disagrees with the functional fold on {len(differing)} messages "
                f"(first: {differing[:1]}); the comparison would not be like for like"
            )


def run(
    *, observations: int, seed: int, repeats: int, per_message_machines: bool = False
) -> tuple[Result, str]:
    """Measure the three contenders; returns the result and its printable report."""
    stream = observation_stream(seed, observations)
    routed = stream.routed()
    binder = per_message_binder if per_message_machines else shared_binder
    machine_label = "a Machine per message" if per_message_machines else "shared Machines"

    _check_agreement(
        {
            FOLD: fold_functional(routed),
            NATIVE: fold_native(routed, RECORDED_AT),
            MACHINE: fold_machines(routed, RECORDED_AT, binder()),
        }
    )

    def functional() -> int:
        fold_functional(routed)
        return len(routed)

    def native() -> int:
        fold_native(routed, RECORDED_AT)
        return len(routed)

    def machines() -> int:
        # binding is part of the mechanism's cost: new machines for every round
        fold_machines(routed, RECORDED_AT, binder())
        return len(routed)

    contenders = [
        Contender(FOLD, reusing(functional)),
        Contender(NATIVE, reusing(native)),
        Contender(MACHINE, reusing(machines)),
    ]
    result = measure("fold", "obs/s", contenders, repeats)
    heading = (
        f"fold: {len(stream):,} observations of {stream.message_count:,} messages, "
        f"seed {seed}, best of {repeats}; transitions with {machine_label}"
    )
    return result, format_result(result, GOALS, heading=heading)


def profile(*, observations: int, seed: int) -> str:
    """Where the functional fold spends its time (cProfile, top 20 by cumulative time)."""
    routed = observation_stream(seed, observations).routed()
    report = profile_call(lambda: len(fold_functional(routed)))
    return f"fold profile, {FOLD}, {observations:,} observations:\n{report}"
