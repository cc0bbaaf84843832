"""Stored events: explicit topics, compact JSON, and class_version upcasting of old records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import uuid4

import attrs
import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from engage_core import Channel, Observation
from engage_core.message.decide import decide_observation
from engage_core.message.events import MESSAGE_EVENT_CLASSES, MessageEvent
from engage_core.serialisation import (
    EVENT_CLASSES,
    CattrsMapper,
    OrjsonTranscoder,
    UnknownTopicError,
    register_event_class,
)

MAPPER = CattrsMapper(transcoder=OrjsonTranscoder())


@attrs.frozen(kw_only=True)
class Renamed(MessageEvent):
    """A test event at version 3: v1 had `colour`, v2 renamed it `color`, v3 added `shade`."""

    TOPIC: ClassVar[str] = "tests.Renamed"
    class_version: ClassVar[int] = 3

    color: str
    shade: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["color"] = state.pop("colour")

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["shade"] = "plain"


register_event_class(Renamed)


def test_every_message_event_has_a_stable_topic_of_its_own() -> None:
    topics = [cls.TOPIC for cls in MESSAGE_EVENT_CLASSES]
    assert len(set(topics)) == len(topics)
    assert all(topic.startswith("engage.message.") for topic in topics)
    for cls in MESSAGE_EVENT_CLASSES:
        assert EVENT_CLASSES[cls.TOPIC] is cls


def test_stored_under_its_topic_not_its_module() -> None:
    observation = Observation.create("sms", "twilio", "SM1", "sent", event_id="e1")
    event = decide_observation(None, observation, recorded_at=datetime(2026, 1, 1, tzinfo=UTC))
    stored = MAPPER.to_stored_event(event)
    assert stored.topic == "engage.message.Observed"
    state = orjson.loads(stored.state)
    assert "originator_id" not in state  # stored as columns
    assert state["channel"] == "sms"
    assert state["outcome"] == "applied"
    assert MAPPER.to_domain_event(stored) == event


def test_old_records_are_upcast_in_order() -> None:
    v1 = {
        "recorded_at": "2026-01-01T00:00:00+00:00",
        "channel": "email",
        "provider": "sendgrid",
        "provider_message_id": "m",
        "colour": "red",
    }
    stored = StoredEvent(uuid4(), 1, "tests.Renamed", orjson.dumps(v1))
    loaded = MAPPER.to_domain_event(stored)
    assert isinstance(loaded, Renamed)
    assert (loaded.color, loaded.shade, loaded.channel) == ("red", "plain", Channel.EMAIL)
    # and a record written now carries its version, so it is not upcast again
    again = MAPPER.to_stored_event(loaded)
    assert orjson.loads(again.state)["class_version"] == 3
    assert MAPPER.to_domain_event(again) == loaded


def test_unknown_topic_and_reused_topic_are_refused() -> None:
    with pytest.raises(UnknownTopicError, match=r"no\.such\.Topic"):
        MAPPER.to_domain_event(StoredEvent(uuid4(), 1, "no.such.Topic", b"{}"))

    @attrs.frozen(kw_only=True)
    class Impostor(MessageEvent):
        TOPIC: ClassVar[str] = "engage.message.Observed"

    with pytest.raises(ValueError, match="already names"):
        register_event_class(Impostor)


def test_a_record_that_does_not_match_its_class_says_which() -> None:
    stored = StoredEvent(uuid4(), 7, "engage.message.Observed", b'{"status": "sent"}')
    with pytest.raises(ValueError, match="v7"):
        MAPPER.to_domain_event(stored)
