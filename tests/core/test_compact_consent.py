"""Consent events stored compact (class versions 3 and 4) read back as the very events the full form
gives, whatever they hold: equal, with every time at the offset it had (so published and viewed
times are the same text), through the application's mapper and the views' records alike; and
events stored by earlier versions (1, 2 and 3) read back as they always did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views.records import decode
from engage_core.channels import Channel
from engage_core.consent.events import (
    CONSENT_EVENT_CLASSES,
    ChannelUpdateRecorded,
    ConsentEvent,
)
from engage_core.consent.rules import (
    ConsentOutcome,
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
)
from engage_core.serialisation import converter
from tests.core.test_perf_consent_stored_dicts import EVENTS, MAPPER


@st.composite
def _events(draw: st.DrawFn, cls: type[ConsentEvent]) -> ConsentEvent:
    """Events of `cls`, their state after often the one the update applied (at its time, or
    at that instant written otherwise), the case the writer leaves out."""
    event = draw(EVENTS[cls])
    if hasattr(event, "after") and draw(st.booleans()):
        at = event.update.provenance.effective_at
        at = draw(st.sampled_from([at, at.astimezone(), at.replace(tzinfo=None), None]))
        locked = draw(st.booleans()) and draw(st.booleans())
        event = attrs.evolve(event, after=SubscriptionState(event.update.status, locked, at))
    assert isinstance(event, ConsentEvent)
    return event


def _full(event: ConsentEvent, class_version: int) -> bytes:
    """The full form, as class version 2 stored it (labelled `class_version`)."""
    state: dict[str, Any] = converter.unstructure(event, unstructure_as=type(event))
    del state["originator_id"], state["originator_version"]
    state["class_version"] = class_version
    return orjson.dumps(state)


def _stored(event: ConsentEvent, data: bytes) -> StoredEvent:
    return StoredEvent(event.originator_id, event.originator_version, type(event).TOPIC, data)


def _read_both_ways(stored: StoredEvent) -> Any:
    """The event the mapper reads, checked equal to what the views' records read."""
    event = MAPPER.to_domain_event(stored)
    originator = stored.originator_id
    assert isinstance(originator, UUID)
    record = decode(stored.topic, originator.hex, stored.originator_version, stored.state)
    assert record.event() == event
    assert _full(record.event(), 2) == _full(event, 2)
    return event


@pytest.mark.parametrize("cls", CONSENT_EVENT_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_a_compact_event_reads_back_as_the_full_form_reads(
    cls: type[ConsentEvent], data: st.DataObject
) -> None:
    event = data.draw(_events(cls))
    stored = MAPPER.to_stored_event(event)
    assert orjson.loads(stored.state)["class_version"] == 4
    assert len(stored.state) <= len(_full(event, 4))
    read = _read_both_ways(stored)
    assert read == event
    # every value as the full form writes it: the same times at the same offsets
    assert _full(read, 2) == _full(event, 2)
    # the full form, as version 2 stored it, as version 1 did (without what v2 added), and as
    # the converter stores it now when the writer cannot build an event: the same event
    old = _read_both_ways(_stored(event, _full(event, 2)))
    assert old == read
    assert _full(old, 2) == _full(read, 2)
    assert _read_both_ways(_stored(event, _full(event, 3))) == read
    assert _read_both_ways(_stored(event, _full(event, 4))) == read
    update = event.update
    if update.provenance.proof is None:  # as version 3 stored it, before proofs
        v3 = orjson.loads(_full(event, 3))
        del v3["update"]["provenance"]["proof"]
        assert _read_both_ways(_stored(event, orjson.dumps(v3))) == read
    if (
        not update.unlock_only
        and update.provenance.claimed_at is None
        and not update.provenance.proof
    ):
        v1 = orjson.loads(_full(event, 1))
        provenance = v1["update"]["provenance"]
        del v1["update"]["unlock_only"], provenance["claimed_at"], provenance["proof"]
        assert _read_both_ways(_stored(event, orjson.dumps(v1))) == read


def test_an_imported_rows_update_is_stored_without_what_reading_fills_back() -> None:
    """A CSV row's usual event: first update of a contact, applied, recorded when it took
    effect: its defaults, repeated times and the state after it are left out."""
    at = datetime(2026, 12, 8, 0, 28, 0, 627014, tzinfo=UTC)
    update = Update(
        SubscriptionStatus.SUBSCRIBED,
        Provenance(SourceKind.CSV, "c.csv:000000002:809a838472aa", at, at),
    )
    event = ChannelUpdateRecorded(
        originator_id=uuid4(),
        originator_version=1,
        recorded_at=at + timedelta(microseconds=512),
        channel=Channel.EMAIL,
        key="a@example.com",
        update=update,
        outcome=ConsentOutcome.APPLIED,
        error=None,
        before=SubscriptionState(),
        after=SubscriptionState(update.status, False, at),
    )
    assert MAPPER.to_stored_event(event).state == (
        b'{"recorded_at":"2026-12-08T00:28:00.627526+00:00","channel":"EMAIL",'
        b'"key":"a@example.com","update":{"status":"SUBSCRIBED","provenance":{"kind":"csv",'
        b'"source_id":"c.csv:000000002:809a838472aa",'
        b'"effective_at":"2026-12-08T00:28:00.627014+00:00"}},"class_version":4}'
    )
    assert MAPPER.to_domain_event(MAPPER.to_stored_event(event)) == event
    # a microsecond apart is another time: written
    later = attrs.evolve(
        event, after=SubscriptionState(update.status, False, at + timedelta(0, 0, 1))
    )
    assert "after" in orjson.loads(MAPPER.to_stored_event(later).state)
    assert MAPPER.to_domain_event(MAPPER.to_stored_event(later)) == later
