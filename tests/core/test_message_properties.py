"""The core's promises as properties: order independence, idempotence, monotonic status,
nothing lost, and a stored-then-loaded message equal to the live one."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from engage_core import LIFECYCLES, MessageState, Observation, ObserveResult, Outcome, Send
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.events import MessageEvent
from engage_core.message.evolve import evolve, fold
from engage_core.message.history import history
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder
from tests.conftest import FIXED_TIME
from tests.core.strategies import arrivals, message_reports


def decide(state: MessageState | None, item: Observation | Send) -> MessageEvent:
    if isinstance(item, Send):
        return decide_send(state, item, recorded_at=FIXED_TIME)
    return decide_observation(state, item, recorded_at=FIXED_TIME)


def run(inputs: Sequence[Observation | Send]) -> tuple[MessageState, list[MessageEvent]]:
    state: MessageState | None = None
    events: list[MessageEvent] = []
    for item in inputs:
        event = decide(state, item)
        state = evolve(state, event)
        events.append(event)
    assert state is not None
    return state, events


def facts(events: Sequence[MessageEvent]) -> set[tuple[object, ...]]:
    """What was reported, regardless of the order it arrived in (a retry under a new event id
    is the same report: it is identified by what it says, not by its id)."""
    return {
        (entry.status, entry.occurred_at, tuple(sorted(entry.details.items())))
        for entry in history(events)
        if entry.kind in {"applied", "late", "conflict"}
    }


def passed(events: Sequence[MessageEvent]) -> set[str]:
    """Every status the history shows the message passed, reported or inferred."""
    return {entry.status for entry in history(events) if entry.kind != "duplicate"}


@given(st.data())
def test_any_order_with_any_duplicates_ends_the_same(data: st.DataObject) -> None:
    reports = data.draw(message_reports())
    baseline, baseline_events = run(reports)
    shuffled, shuffled_events = run(data.draw(arrivals(reports)))
    assert shuffled.status == baseline.status
    assert shuffled.engagement == baseline.engagement
    assert shuffled.seen >= baseline.seen  # retries under new ids add keys, and only those
    assert facts(shuffled_events) == facts(baseline_events)
    assert shuffled.known == baseline.known
    assert passed(shuffled_events) == passed(baseline_events)
    assert shuffled.send == baseline.send


@given(st.data())
def test_status_is_the_highest_precedence_report(data: st.DataObject) -> None:
    reports = data.draw(message_reports())
    state, _ = run(data.draw(arrivals(reports)))
    table = LIFECYCLES[state.channel]
    implied = [
        table.engagement_implies or r.status if table.is_engagement(r.status) else r.status
        for r in reports
        if isinstance(r, Observation)
    ] + [table.initial for r in reports if isinstance(r, Send)]
    assert state.status == max(implied, key=table.rank.__getitem__)


@given(st.data())
def test_status_never_moves_backwards(data: st.DataObject) -> None:
    reports = data.draw(message_reports())
    inputs = data.draw(arrivals(reports))
    state: MessageState | None = None
    for item in inputs:
        before = state.status if state else None
        state = evolve(state, decide(state, item))
        table = LIFECYCLES[state.channel]
        if before is not None:
            assert state.status is not None
            assert table.rank[state.status] >= table.rank[before]
            # never back to an earlier status of the machine
            assert state.status == before or before not in table.descendants[state.status]


@given(st.data())
def test_every_input_is_accounted_for(data: st.DataObject) -> None:
    reports = data.draw(message_reports())
    inputs = data.draw(arrivals(reports))
    _, events = run(inputs)
    result = ObserveResult.of(events)
    assert result.received == len(inputs) == len(events)
    assert result.received == (
        result.applied + result.duplicates + result.late + result.conflicts + result.rejected
    )
    distinct_reports = {_identity(item) for item in inputs}
    assert result.duplicates == len(inputs) - len(distinct_reports)
    # every input left a line in the history; inferred steps are extra lines
    non_inferred = [entry for entry in history(events) if entry.kind != "inferred"]
    assert len(non_inferred) == len(inputs)
    assert [e.kind for e in non_inferred].count(Outcome.DUPLICATE.value) == result.duplicates


def _identity(item: Observation | Send) -> object:
    """What makes two inputs the same report: its composite key if it has one, else its keys."""
    if isinstance(item, Observation) and item.provider_keys:
        return item.provider_keys
    return item.dedup_keys


@given(st.data())
def test_stored_and_loaded_equals_live(data: st.DataObject) -> None:
    mapper = CattrsMapper(transcoder=OrjsonTranscoder())
    reports = data.draw(message_reports())
    live, events = run(data.draw(arrivals(reports)))
    loaded = [mapper.to_domain_event(mapper.to_stored_event(event)) for event in events]
    assert loaded == events
    assert fold(loaded) == live
