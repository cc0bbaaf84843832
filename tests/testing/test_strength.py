"""The shipped strategies and `EngageModel` are worth shipping: each finds a deliberately broken
copy of the engine within the default example budget (100 examples). The engine is broken in
the test only, by patching what the decisions read: a lifecycle edge the machine declares is
missing from the table `decide` uses, the duplicate check is gone, or consent applies updates
in arrival order instead of replaying them in effective-time order."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

import engage_core.message.decide as decide
from engage_core import LIFECYCLES, Channel, Lifecycle
from engage_core.consent.state import ChannelSubscription
from engage_core.testing import EngageModel
from tests.testing.properties import (
    FIND,
    arrival_changes_nothing,
    consent_ignores_arrival_order,
    walks_apply_in_order,
)

# an edge most walks of the channel take
EDGES = {
    Channel.SMS: ("queued", "sending"),
    Channel.WHATSAPP: ("sending", "sent"),
    Channel.EMAIL: ("processed", "dropped"),
}


def without_edge(table: Lifecycle, edge: tuple[str, str]) -> Lifecycle:
    """`table` as if its machine lacked `edge`: reachability recomputed without it."""
    edges = table.edges - {edge}
    descendants = {}
    for status in table.statuses:
        seen: set[str] = set()
        todo = [d for s, d in edges if s == status and d != status]
        while todo:
            here = todo.pop()
            if here not in seen:
                seen.add(here)
                todo += [d for s, d in edges if s == here and d != status]
        descendants[status] = frozenset(seen)
    return attrs.evolve(table, edges=edges, descendants=descendants)


def break_edge(monkeypatch: pytest.MonkeyPatch, channel: Channel) -> None:
    broken = without_edge(LIFECYCLES[channel], EDGES[channel])
    monkeypatch.setattr(decide, "lifecycle", lambda c: broken if c is channel else LIFECYCLES[c])


def drop_duplicate_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decide, "_seen_before", lambda state, item: False)


def apply_in_arrival_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ChannelSubscription, "is_newest", lambda self, update: True)


def fails(check: Callable[[], None]) -> None:
    with pytest.raises(AssertionError):
        check()


def model_fails() -> None:
    budget = settings(FIND, stateful_step_count=50)  # Hypothesis' default
    fails(lambda: run_state_machine_as_test(EngageModel, settings=budget))


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_walks_find_a_missing_edge(monkeypatch: pytest.MonkeyPatch, channel: Channel) -> None:
    break_edge(monkeypatch, channel)
    fails(walks_apply_in_order(channel, FIND))


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_disorder_finds_a_dropped_duplicate_check(
    monkeypatch: pytest.MonkeyPatch, channel: Channel
) -> None:
    drop_duplicate_check(monkeypatch)
    fails(arrival_changes_nothing(channel, FIND))


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_subscription_updates_find_an_order_dependent_rule(
    monkeypatch: pytest.MonkeyPatch, channel: Channel
) -> None:
    apply_in_arrival_order(monkeypatch)
    fails(consent_ignores_arrival_order(channel, FIND))


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_the_model_finds_a_missing_edge(monkeypatch: pytest.MonkeyPatch, channel: Channel) -> None:
    break_edge(monkeypatch, channel)
    model_fails()


def test_the_model_finds_a_dropped_duplicate_check(monkeypatch: pytest.MonkeyPatch) -> None:
    drop_duplicate_check(monkeypatch)
    model_fails()


def test_the_model_finds_an_order_dependent_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    apply_in_arrival_order(monkeypatch)
    model_fails()
