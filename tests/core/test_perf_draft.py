"""A batch decided on a `Draft` and frozen once per message decides the same events and ends in
the same state as deciding and evolving event by event; folding a log on a draft equals `fold`."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from engage_core import MessageState, Observation, Send
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.draft import Draft, fold_drafted
from engage_core.message.events import MessageEvent
from engage_core.message.evolve import evolve, fold
from engage_core.message.state import MessageView
from tests.conftest import FIXED_TIME
from tests.core.strategies import arrivals, message_reports


def decide(state: MessageView | None, item: Observation | Send) -> MessageEvent:
    if isinstance(item, Send):
        return decide_send(state, item, recorded_at=FIXED_TIME)
    return decide_observation(state, item, recorded_at=FIXED_TIME)


def evolved(
    state: MessageState | None, inputs: Sequence[Observation | Send]
) -> tuple[MessageState | None, list[MessageEvent]]:
    events = []
    for item in inputs:
        event = decide(state, item)
        state = evolve(state, event)
        events.append(event)
    return state, events


def drafted(
    state: MessageState | None, inputs: Sequence[Observation | Send]
) -> tuple[MessageState | None, list[MessageEvent]]:
    draft: Draft | None = None
    events = []
    for item in inputs:
        event = decide(draft if draft is not None else state, item)
        if draft is None:
            draft = Draft.start(state, event)
        draft.apply(event)
        events.append(event)
    return (state if draft is None else draft.freeze()), events


@given(st.data())
def test_batches_on_drafts_decide_and_end_as_evolve_does(data: st.DataObject) -> None:
    inputs = data.draw(arrivals(data.draw(message_reports())))
    cut = data.draw(st.integers(0, len(inputs)))  # a first batch, then the rest on its state
    state_a, events_a = evolved(None, inputs[:cut])
    state_b, events_b = drafted(None, inputs[:cut])
    assert (state_b, events_b) == (state_a, events_a)
    later_a, more_a = evolved(state_a, inputs[cut:])
    later_b, more_b = drafted(state_b, inputs[cut:])
    assert (later_b, more_b) == (later_a, more_a)
    assert fold_drafted([*events_a, *more_a]) == fold([*events_a, *more_a]) == later_a
    assert fold_drafted(more_a, state_a) == later_a
    assert fold_drafted([], state_a) is state_a


def test_a_draft_is_not_shared_with_the_state_it_came_from() -> None:
    report = Observation.create("email", "sendgrid", "m1", "delivered", event_id="e1")
    state = evolve(None, decide(None, report))
    draft = Draft.start(state, decide(state, report))
    draft.seen.add("other")
    draft.known.add("other")
    assert "other" not in state.seen
    assert "other" not in state.known
