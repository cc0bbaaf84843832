"""`Counts.of` and `Counts.of_inputs` tell kinds by exact type and outcomes by identity; they
count any events as the plain form does (a tally by `isinstance` and outcome), and still
refuse a message event of a kind they cannot count."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage_core.application import Command, EngageApplication
from engage_core.counts import Counts
from engage_core.message.events import (
    DuplicateIgnored,
    MessageEvent,
    Observed,
    Outcome,
    SendRecorded,
)
from engage_core.observations import Observation, Send
from engage_core.simulation import simulate


def _plain(
    inputs: Sequence[Observation | Send], events: Sequence[Any], count_sends: bool
) -> Counts:
    counts = dict.fromkeys(Outcome, 0)
    counted = [
        e
        for e, i in zip(events[: len(inputs)], inputs, strict=True)
        if isinstance(e, MessageEvent) and (count_sends or not isinstance(i, Send))
    ]
    for event in counted:
        if isinstance(event, DuplicateIgnored):
            counts[Outcome.DUPLICATE] += 1
        elif isinstance(event, Observed | SendRecorded):
            counts[event.outcome] += 1
        else:
            raise TypeError(type(event).__name__)
    return Counts(
        received=len(counted),
        applied=counts[Outcome.APPLIED],
        duplicates=counts[Outcome.DUPLICATE],
        late=counts[Outcome.LATE],
        conflicts=counts[Outcome.CONFLICT],
    )


@functools.cache
def _decided() -> tuple[tuple[Observation | Send, MessageEvent], ...]:
    """Inputs of every kind and outcome, each with the event a save of it returned."""
    app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    traffic = simulate(seed=3, messages=120)
    inputs = [*traffic.inputs, *traffic.inputs[:40]]  # and some again: duplicates
    events = app._execute(Command(inputs=inputs))
    pairs = tuple(zip(inputs, events[: len(inputs)], strict=True))
    kinds = {(type(e), getattr(e, "outcome", None)) for _, e in pairs}
    assert len(kinds) >= 5  # duplicates, and reports and sends of several outcomes
    return pairs


@given(st.data(), st.booleans())
def test_counts_as_the_plain_tally_does(data: st.DataObject, count_sends: bool) -> None:
    pairs = data.draw(st.lists(st.sampled_from(_decided()), max_size=60))
    inputs = [i for i, _ in pairs]
    events = [e for _, e in pairs]
    assert Counts.of_inputs(inputs, events, count_sends=count_sends) == _plain(
        inputs, events, count_sends
    )


def test_a_message_event_of_a_new_kind_is_refused() -> None:
    @attrs.frozen(kw_only=True)
    class Unknown(MessageEvent):
        pass

    _, event = _decided()[0]
    stranger = Unknown(
        originator_id=event.originator_id,
        originator_version=1,
        recorded_at=event.recorded_at,
        channel=event.channel,
        provider=event.provider,
        provider_message_id=event.provider_message_id,
    )
    with pytest.raises(TypeError, match="cannot count Unknown"):
        Counts.of([stranger])
