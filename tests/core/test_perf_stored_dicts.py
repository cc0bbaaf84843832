"""The mapper's direct dict builders store the very bytes the cattrs converter's unstructuring
stored, for generated events of every class they are built for, odd `details` included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage_core import serialisation
from engage_core.channels import Channel
from engage_core.message.events import (
    MESSAGE_EVENT_CLASSES,
    DuplicateIgnored,
    MessageEvent,
    Observed,
    Outcome,
    SendRecorded,
)
from engage_core.observations import ProviderFacts, Send
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder, converter

MAPPER = CattrsMapper(transcoder=OrjsonTranscoder())

_texts = st.text(max_size=12)
_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).map(str.strip).filter(bool)
_times = st.datetimes(
    min_value=datetime(1970, 1, 2),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=8,
)
# values a caller could put in `details` that are no JSON: the converter's handling must stand
_odd = st.sampled_from([(1, 2), {"a"}, frozenset(), {1: 2}, Outcome.LATE, UUID(int=7)]) | _times
_details = st.dictionaries(_texts, _json | _odd, max_size=4)
_keys = st.lists(_texts, max_size=3).map(tuple)

_facts = st.builds(
    ProviderFacts,
    **{name: st.none() | _texts for name in ("contact", "text", "choice", "reason", "group")},
    attempt=st.none() | st.integers(-5, 10**12) | st.floats(allow_nan=False) | _texts,
)
_sends = st.builds(
    Send,
    channel=st.sampled_from(Channel),
    provider=_names,
    provider_message_id=_names,
    to=st.none() | _names,
    email_subject=st.none() | _names,
    sent_at=st.none() | _times,
)
_common: dict[str, Any] = {
    "originator_id": st.uuids(),
    "originator_version": st.integers(1, 10**6),
    "recorded_at": _times,
    "channel": st.sampled_from(Channel),
    "provider": _texts,
    "provider_message_id": _texts,
}
EVENTS: dict[type[MessageEvent], st.SearchStrategy[Any]] = {
    Observed: st.builds(
        Observed,
        **_common,
        status=_texts,
        occurred_at=st.none() | _times,
        event_id=st.none() | _texts,
        dedup_keys=_keys,
        details=_details,
        outcome=st.sampled_from(Outcome),
        inferred=_keys,
        status_after=_texts,
        claimed_at=st.none() | _times,
        facts=_facts,
    ),
    SendRecorded: st.builds(
        SendRecorded,
        **_common,
        send=_sends,
        dedup_keys=_keys,
        outcome=st.sampled_from(Outcome),
        status_after=_texts,
    ),
    DuplicateIgnored: st.builds(
        DuplicateIgnored,
        **_common,
        status=_texts,
        occurred_at=st.none() | _times,
        dedup_keys=_keys,
    ),
}


def converters_bytes(event: Any) -> bytes:
    """What the mapper stored before it built dicts itself (the consent events' test uses it
    too)."""
    state: dict[str, Any] = converter.unstructure(event, unstructure_as=type(event))
    state.pop("originator_id")
    state.pop("originator_version")
    if type(event).class_version > 1:
        state["class_version"] = type(event).class_version
    return orjson.dumps(state)


def test_every_message_event_class_is_covered() -> None:
    assert set(EVENTS) == set(MESSAGE_EVENT_CLASSES)


@pytest.mark.parametrize("cls", MESSAGE_EVENT_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_stored_json_is_the_converters_byte_for_byte(
    cls: type[MessageEvent], data: st.DataObject
) -> None:
    event = data.draw(EVENTS[cls])
    try:
        expected: bytes | type[Exception] = converters_bytes(event)
    except TypeError as error:  # no JSON: the mapper must refuse it the same way
        expected = type(error)
    if isinstance(expected, bytes):
        # the builder itself, not only the mapper (whose fallback would give the same bytes):
        # it gives the bytes, or refuses only an event holding what JSON has no word for (a
        # set in details), which the mapper hands to the converter
        try:
            assert orjson.dumps(serialisation._DICT_MAKERS[cls](event)) == expected
        except TypeError:
            with pytest.raises(TypeError):
                orjson.dumps(attrs.asdict(event, recurse=True))
        stored = MAPPER.to_stored_event(event)
        assert stored.state == expected
        assert (stored.originator_id, stored.originator_version) == (
            event.originator_id,
            event.originator_version,
        )
        assert stored.topic == cls.TOPIC
    else:
        with pytest.raises(expected):
            MAPPER.to_stored_event(event)
