"""The event store's stored events and recordings, made by filling their `__dict__`, equal the
ones eventsourcing's constructors make, attribute for attribute."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, Recording, StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from engage_core import event_store


@given(st.integers(0, 2**128 - 1), st.integers(1, 10**9), st.text(), st.binary(), st.integers(1))
def test_made_objects_equal_constructed_ones(
    number: int, version: int, topic: str, state: bytes, notification_id: int
) -> None:
    assert event_store.stored_event is event_store._fast_stored_event  # the fast path is on
    originator = UUID(int=number)
    made = event_store.stored_event(originator, version, topic, state)
    plain = StoredEvent(originator, version, topic, state)
    assert type(made) is StoredEvent
    assert made == plain
    assert vars(made) == vars(plain)
    event: Any = "event"  # a recording carries its domain event through as it is
    recording = event_store._recording(event, made, notification_id)
    notification = Notification(originator, version, topic, state, notification_id)
    expected: Recording[UUID] = Recording(event, notification)
    assert type(recording) is Recording
    assert recording == expected
    assert vars(recording.notification) == vars(expected.notification)
