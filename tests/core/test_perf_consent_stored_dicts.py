"""The direct dict builders give the very bytes the cattrs converter's unstructuring gives for
consent events (channel in its consent spelling), for generated events of every consent class
and the group directory's `GroupListed`; the mapper stores `GroupListed` so (consent events
themselves it stores compact: `test_compact_consent.py`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage_core.channels import Channel
from engage_core.consent.events import (
    CONSENT_EVENT_CLASSES,
    ChannelUpdateDuplicated,
    ChannelUpdateRecorded,
    GroupListed,
    GroupStateRejudged,
    GroupUpdateDuplicated,
    GroupUpdateRecorded,
)
from engage_core.consent.evidence import PROOF_LIMITS, Proof
from engage_core.consent.rules import (
    ConsentOutcome,
    ErrorCode,
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
)
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder, converter
from engage_core.stored_dicts import build_dict_makers
from tests.core.test_perf_stored_dicts import converters_bytes

MAPPER = CattrsMapper(transcoder=OrjsonTranscoder())

_texts = st.text(max_size=12)
# past every proof field's bound, often with a space where it is cut
_long_texts = st.builds(lambda n, tail: "a" * n + " " + tail, st.integers(30, 600), _texts)
_AT = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
_OFFSET = timezone(timedelta(hours=-5, minutes=-30))
# times that often coincide (one instant as the same text, at another offset, without a zone,
# a microsecond apart) and any others
_times = st.sampled_from(
    [_AT, _AT.astimezone(_OFFSET), _AT.replace(tzinfo=None), _AT + timedelta(microseconds=1)]
) | st.datetimes(
    min_value=datetime(1970, 1, 2),
    timezones=st.sampled_from([UTC, _OFFSET]) | st.none(),  # type: ignore[arg-type]
)
_provenances = st.builds(
    Provenance,
    kind=st.sampled_from(SourceKind),
    source_id=_texts,
    effective_at=_times,
    recorded_at=_times,
    user_id=st.none() | _texts,
    claimed_at=st.none() | _times,
    proof=st.none()
    | st.builds(Proof, **{name: st.none() | _texts | _long_texts for name in PROOF_LIMITS}),
)
_updates = st.builds(
    Update,
    status=st.sampled_from(SubscriptionStatus),
    provenance=_provenances,
    lock=st.booleans(),
    unlock=st.booleans(),
    unlock_only=st.booleans(),
    confirms_only=st.booleans(),
)
_states = st.builds(
    SubscriptionState,
    status=st.none() | st.sampled_from(SubscriptionStatus),
    locked_by_user=st.booleans(),
    effective_at=st.none() | _times,
)
_errors = st.none() | st.sampled_from(ErrorCode)
_common: dict[str, Any] = {
    "originator_id": st.uuids(),
    "originator_version": st.integers(1, 10**6),
    "recorded_at": _times,
    "channel": st.sampled_from(Channel),
    "key": _texts,
}
_consent: dict[str, Any] = {**_common, "update": _updates}
_judged: dict[str, Any] = {"before": _states, "after": _states}
_recorded: dict[str, Any] = {"outcome": st.sampled_from(ConsentOutcome), "error": _errors}
EVENTS: dict[type[Any], st.SearchStrategy[Any]] = {
    ChannelUpdateRecorded: st.builds(ChannelUpdateRecorded, **_consent, **_recorded, **_judged),
    ChannelUpdateDuplicated: st.builds(ChannelUpdateDuplicated, **_consent, error=_errors),
    GroupUpdateRecorded: st.builds(
        GroupUpdateRecorded, **_consent, group=_texts, **_recorded, **_judged
    ),
    GroupUpdateDuplicated: st.builds(
        GroupUpdateDuplicated, **_consent, group=_texts, error=_errors
    ),
    GroupStateRejudged: st.builds(GroupStateRejudged, **_consent, group=_texts, **_judged),
    GroupListed: st.builds(GroupListed, **_common, group=_texts),
}
CLASSES = (*CONSENT_EVENT_CLASSES, GroupListed)
BUILT = build_dict_makers(
    converter, CLASSES, (Update, Provenance, SubscriptionState), spelled={"channel": "consent_name"}
)


def test_every_consent_event_class_is_covered() -> None:
    assert set(EVENTS) == set(CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_built_consent_json_is_the_converters_byte_for_byte(
    cls: type[Any], data: st.DataObject
) -> None:
    event = data.draw(EVENTS[cls])
    built = orjson.dumps(BUILT[cls](event))
    assert built == converters_bytes(event)
    assert orjson.loads(built)["channel"] == event.channel.consent_name


@settings(max_examples=300, deadline=None)
@given(event=EVENTS[GroupListed])
def test_a_stored_group_listing_is_the_converters_byte_for_byte(event: GroupListed) -> None:
    stored = MAPPER.to_stored_event(event)
    assert stored.state == converters_bytes(event)
    assert (stored.originator_id, stored.originator_version, stored.topic) == (
        event.originator_id,
        event.originator_version,
        GroupListed.TOPIC,
    )
    assert MAPPER.to_domain_event(stored) == event
