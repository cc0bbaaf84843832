"""The compiled tables agree with the Machines they come from, and every (status, status) pair
of every machine follows the documented rule (DOMAIN.md §2), checked exhaustively."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

import pytest

from engage_core import LIFECYCLES, Channel, Observation, Outcome
from engage_core.lifecycles import MACHINES, Relation
from engage_core.message.decide import decide_observation
from engage_core.message.events import Observed
from engage_core.message.evolve import evolve
from engage_core.message.history import history_entries
from engage_core.message.state import MessageState
from tests.conftest import FIXED_TIME

CHANNELS = list(Channel)


def decided_on(state: MessageState, observation: Observation) -> Observed:
    """The decision on a new report: an `Observed` (never a duplicate, its event_id is new)."""
    event = decide_observation(state, observation, recorded_at=FIXED_TIME)
    assert isinstance(event, Observed)
    return event


def machine_edges(machine: Any) -> set[tuple[str, str]]:
    """Edges read straight off the transitions Machine, independent of the compiled tables."""
    return {
        (source, transition.dest)
        for event in machine.events.values()
        for source, transitions in event.transitions.items()
        for transition in transitions
    }


def reachable(machine: Any, start: str) -> set[str]:
    """Statuses reachable from `start` by one edge or more (breadth-first over the Machine)."""
    edges = machine_edges(machine)
    seen: set[str] = set()
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for source, dest in edges:
            if source == node and dest not in seen:
                seen.add(dest)
                queue.append(dest)
    return seen


def pairs() -> list[tuple[Channel, str, str]]:
    return [
        (channel, current, observed)
        for channel in CHANNELS
        for current in MACHINES[channel].states
        for observed in MACHINES[channel].states
    ]


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.value)
def test_tables_are_the_machine(channel: Channel) -> None:
    machine = MACHINES[channel]
    table = LIFECYCLES[channel]
    assert table.edges == machine_edges(machine)
    assert table.statuses == tuple(machine.states)
    assert table.initial == machine.initial
    for status in machine.states:
        assert set(table.descendants[status]) == reachable(machine, status) - {status}
        has_way_out = any(t for t in machine.get_triggers(status) if _leaves(machine, t, status))
        assert (status in table.terminal) == (not has_way_out)


def _leaves(machine: Any, trigger: str, status: str) -> bool:
    return any(t.dest != status for t in machine.events[trigger].transitions[status])


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.value)
def test_precedence_extends_reachability(channel: Channel) -> None:
    table = LIFECYCLES[channel]
    for status in table.statuses:
        for later in table.descendants[status]:
            assert table.rank[later] > table.rank[status], (status, later)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP], ids=lambda c: c.value)
def test_positive_evidence_wins(channel: Channel) -> None:
    table = LIFECYCLES[channel]
    ladder = ["failed", "undelivered", "delivered", "read"]
    for lower, higher in itertools.pairwise(ladder):
        assert table.winner(lower, higher) == higher == table.winner(higher, lower)


def test_email_precedence() -> None:
    table = LIFECYCLES[Channel.EMAIL]
    assert table.winner("bounced", "delivered") == "delivered"
    assert table.winner("dropped", "bounced") == "bounced"


def test_every_status_has_its_event_name_or_is_documented_as_none() -> None:
    named = {
        name for table in LIFECYCLES.values() for name in table.event_names.values() if name
    } | {name for table in LIFECYCLES.values() for name in table.engagement_names.values()}
    assert len([n for n in named if n.startswith("SMS ")]) == 10
    assert len([n for n in named if n.startswith("WhatsApp ")]) == 10
    # 12 here; "Email Subscribed" comes from subscriptions, not from a message status
    assert len([n for n in named if n.startswith("Email ")]) == 12


def at_status(channel: Channel, status: str) -> MessageState:
    observation = Observation.create(channel, "p", "m1", status, event_id="first")
    return evolve(None, decide_observation(None, observation, recorded_at=FIXED_TIME))


def root_paths(machine: Any, end: str) -> list[list[str]]:
    """Every way to `end` from a status no edge leads to (the graphs are small and acyclic
    but for self-loops, so enumerating them all is cheap)."""
    edges = {(a, b) for a, b in machine_edges(machine) if a != b}
    into = {b for _, b in edges}

    def ways(node: str) -> list[list[str]]:
        if node not in into:
            return [[node]]
        return [[*way, node] for (a, b) in edges if b == node for way in ways(a)]

    return ways(end)


def proved_by(machine: Any, status: str) -> set[str]:
    """What a report of `status` proves: the statuses on every way to it, roots excepted."""
    ways = root_paths(machine, status)
    common = set.intersection(*(set(way[1:-1]) for way in ways))
    return common


@pytest.mark.parametrize(
    ("channel", "current", "observed"), pairs(), ids=lambda v: getattr(v, "value", v)
)
def test_every_pair_follows_the_rule(channel: Channel, current: str, observed: str) -> None:
    machine = MACHINES[channel]
    state = at_status(channel, current)
    assert state.known == {current} | proved_by(machine, current)
    observation = Observation.create(channel, "p", "m1", observed, event_id="second")
    event = decided_on(state, observation)
    after = evolve(state, event)
    order = list(machine.states)

    # whatever the relation, the report proves what it proves, once
    assert set(event.inferred) == proved_by(machine, observed) - state.known
    assert after.known == state.known | {observed} | proved_by(machine, observed)
    kinds = [entry.kind for entry in history_entries(event)]

    if observed in reachable(machine, current):
        assert event.outcome is Outcome.APPLIED
        assert after.status == observed
        assert kinds == ["inferred"] * len(event.inferred) + ["applied"]
    elif current == observed or current in reachable(machine, observed):
        assert event.outcome is Outcome.LATE
        assert after.status == current
        # a late report can still prove something: `sending` after `failed` proves `queued`
        assert kinds == ["inferred"] * len(event.inferred) + ["late"]
    else:
        assert event.outcome is Outcome.CONFLICT
        expected = max(current, observed, key=order.index)
        assert after.status == expected
        assert LIFECYCLES[channel].relation(current, observed) is Relation.CONFLICT


def test_read_proves_delivered_and_failed_proves_nothing() -> None:
    sms = LIFECYCLES[Channel.SMS]
    assert sms.implied["read"] == ("queued", "sending", "sent", "delivered")
    assert sms.implied["failed"] == ()  # Twilio can fail a message before it is queued
    assert sms.implied["canceled"] == ("scheduled",)
    assert LIFECYCLES[Channel.EMAIL].implied["delivered"] == ()


@pytest.mark.parametrize("current", MACHINES[Channel.EMAIL].states)
@pytest.mark.parametrize("kind", sorted(LIFECYCLES[Channel.EMAIL].engagement_names))
def test_engagement_implies_delivered_from_every_status(current: str, kind: str) -> None:
    state = at_status(Channel.EMAIL, current)
    observation = Observation.create(Channel.EMAIL, "p", "m1", kind, event_id="engaged")
    event = decided_on(state, observation)
    after = evolve(state, event)
    assert after.status == "delivered"  # delivered is reachable from, or outranks, every status
    assert after.engagement[kind].count == 1
    if current in {"processed", "deferred", "dropped", "bounced"}:
        assert event.inferred == ("delivered",)  # engagement proves delivery
    if current in {"processed", "deferred"}:
        assert event.outcome is Outcome.APPLIED
    elif current == "delivered":
        assert event.outcome is Outcome.APPLIED
        assert event.inferred == ()
    else:  # bounced, dropped: a report of engagement contradicts them
        assert event.outcome is Outcome.CONFLICT


def test_meta_read_without_delivered_infers_delivered() -> None:
    state = at_status(Channel.WHATSAPP, "sent")
    observation = Observation.create(Channel.WHATSAPP, "meta", "m1", "read", event_id="r")
    event = decided_on(state, observation)
    assert event.inferred == ("delivered",)
    assert evolve(state, event).status == "read"


def test_whatsapp_failed_after_sent_advances_but_sms_keeps_sent() -> None:
    for channel, expected_outcome, expected_status in [
        (Channel.WHATSAPP, Outcome.APPLIED, "failed"),
        (Channel.SMS, Outcome.CONFLICT, "sent"),
    ]:
        state = at_status(channel, "sent")
        observation = Observation.create(channel, "p", "m1", "failed", event_id="f")
        event = decided_on(state, observation)
        assert event.outcome is expected_outcome
        assert evolve(state, event).status == expected_status
