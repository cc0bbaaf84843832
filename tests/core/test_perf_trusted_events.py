"""Decisions make `Observed` events by filling their slots (`message.trusted`): the events are
those attrs' own constructor makes of the same values, and store the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import orjson
from hypothesis import given

from engage_core.message.decide import decide_observation
from engage_core.message.draft import Draft
from engage_core.message.events import Observed
from engage_core.message.state import MessageView
from engage_core.observations import NO_FACTS, Observation, Send
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder, _unstructured
from engage_core.testing.strategies import reports

_MAPPER: CattrsMapper = CattrsMapper(transcoder=OrjsonTranscoder())
_AT = datetime(2026, 6, 1, tzinfo=UTC)


@given(reports())
def test_trusted_observed_events_are_the_constructed_ones(inputs: list[Observation | Send]) -> None:
    state: MessageView | None = None
    for item in inputs:
        if not isinstance(item, Observation):
            continue
        event = decide_observation(state, item, recorded_at=_AT)
        if isinstance(event, Observed):
            constructed = Observed(**attrs.asdict(event, recurse=False))
            assert type(event) is Observed
            assert event == constructed
            stored, plain = _MAPPER.to_stored_event(event), _MAPPER.to_stored_event(constructed)
            assert stored.state == plain.state
            assert stored.topic == plain.topic
        if state is None:
            state = Draft.start(None, event)
        assert isinstance(state, Draft)
        state.apply(event)


def test_an_event_without_facts_stores_the_converters_bytes() -> None:
    """ "No facts" is built once and shared by every event holding it (`stored_dicts`)."""
    item = Observation(
        channel="email", provider="p", provider_message_id="m", status="delivered",
        occurred_at=_AT, event_id="e1",
    )  # fmt: skip
    first = decide_observation(None, item, recorded_at=_AT)
    assert isinstance(first, Observed)
    assert first.facts is NO_FACTS
    for event in (first, attrs.evolve(first, originator_version=2)):
        stored = _MAPPER.to_stored_event(event)
        assert stored.state == orjson.dumps(_unstructured(event, Observed))
