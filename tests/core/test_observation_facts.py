"""Typed facts on the way in: an `engage observe` line may carry them (`facts`), they are
checked like the rest of the line, bounded like `details`, and part of a digest key."""

from __future__ import annotations

import pytest

from engage_core.limits import Limits
from engage_core.message.decide import decide_observation
from engage_core.message.events import Observed
from engage_core.observations import InvalidInput, ProviderFacts, parse_observation

AT = "2026-03-01T00:00:00Z"
LINE = {"channel": "sms", "provider": "twilio", "provider_message_id": "SM1",
        "status": "received", "occurred_at": AT}  # fmt: skip


def test_a_line_carries_typed_facts_and_the_event_keeps_them() -> None:
    line = {**LINE, "facts": {"contact": "+12135618345", "text": "STOP"}}
    observation = parse_observation(line)
    assert observation.facts == ProviderFacts(contact="+12135618345", text="STOP")
    event = decide_observation(None, observation, recorded_at=observation.occurred_at)  # type: ignore[arg-type]
    assert isinstance(event, Observed)
    assert event.facts == observation.facts


def test_a_line_without_facts_is_read_from_its_details_as_before() -> None:
    line = {**LINE, "details": {"From": "+12135618345", "Body": "stop"}}
    observation = parse_observation(line)
    assert observation.facts is None
    event = decide_observation(None, observation, recorded_at=observation.occurred_at)  # type: ignore[arg-type]
    assert isinstance(event, Observed)
    assert event.facts == ProviderFacts(contact="+12135618345", text="stop")


@pytest.mark.parametrize(
    ("facts", "named"),
    [({"colour": "red"}, "facts"), ({"text": 5}, "facts.text"), ("STOP", "facts"),
     ({"attempt": True}, "facts.attempt")],
)  # fmt: skip
def test_bad_facts_are_refused_naming_them(facts: object, named: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_observation({**LINE, "facts": facts})
    assert raised.value.field == named


def test_facts_are_bounded_by_the_details_limit() -> None:
    limits = Limits(details_bytes=100)
    parse_observation({**LINE, "facts": {"text": "x" * 80}}, limits=limits)
    with pytest.raises(InvalidInput, match=r"^facts: .*ENGAGE_MAX_DETAILS_BYTES"):
        parse_observation({**LINE, "facts": {"text": "x" * 100}}, limits=limits)


def test_two_lines_that_differ_only_in_their_facts_are_two_reports() -> None:
    stop = parse_observation({**LINE, "facts": {"text": "STOP"}})
    start = parse_observation({**LINE, "facts": {"text": "START"}})
    plain = parse_observation(LINE)
    assert stop.dedup_keys != start.dedup_keys
    assert plain.dedup_keys == parse_observation({**LINE, "facts": {}}).dedup_keys
