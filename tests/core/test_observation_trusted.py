"""The trusted constructors build what the validating ones build, for every value the
validating ones accept: an adapter that checked its values once may skip the second check
without changing a byte of what is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import orjson
from hypothesis import given
from hypothesis import strategies as st

from engage_core import Channel, Observation
from engage_core.lifecycles import lifecycle
from engage_core.observations import MAX_TEXT_LENGTH, canonical_details, is_clean_text
from engage_core.provider_facts import ProviderFacts

texts = st.text(min_size=1, max_size=40).map(str.strip).filter(bool)
json_keys = st.text(max_size=6)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(json_keys, json_values, max_size=8)
facts_given: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {},
    optional={
        "contact": st.text(max_size=20),
        "group": st.text(max_size=5),
        "link_url": st.text(max_size=20),
        "reason": st.text(max_size=20),
        "bounce_type": st.text(max_size=5),
        "attempt": st.text(max_size=3) | st.integers(-(2**63), 2**64 - 1),
    },
)


@st.composite
def observation_fields(draw: st.DrawFn) -> dict[str, Any]:
    channel = draw(st.sampled_from(Channel))
    table = lifecycle(channel)
    statuses = [s for s in (*table.statuses, *table.engagement_names) if table.canonical(s) == s]
    return {
        "channel": channel,
        "provider": draw(texts).lower(),
        "provider_message_id": draw(texts),
        "status": draw(st.sampled_from(statuses)),
        "occurred_at": draw(st.none() | st.datetimes(timezones=st.just(UTC))),
        "event_id": draw(st.none() | texts),
        "details": draw(json_objects),
        "provider_keys": tuple(draw(st.lists(texts, max_size=3))),
        "facts": draw(st.none() | facts_given.map(lambda given: ProviderFacts(**given))),
    }


def _stored(observation: Observation) -> tuple[Any, ...]:
    return (
        orjson.dumps(observation.details),
        observation.message_id,
        observation.dedup_keys,
        None if observation.facts is None else orjson.dumps(observation.facts.given()),
    )


@given(observation_fields())
def test_a_trusted_observation_is_the_validated_one(fields: dict[str, Any]) -> None:
    validated = Observation(**fields)
    (plain,) = canonical_details([fields["details"]]) or [None]
    trusted = Observation.trusted(**{**fields, "details": plain})
    assert trusted == validated
    assert _stored(trusted) == _stored(validated)  # key order too: details are stored as is
    given_id = Observation.trusted(
        **{**fields, "details": plain, "message_id": validated.message_id}
    )
    assert given_id == validated
    assert _stored(given_id) == _stored(validated)


@given(st.lists(json_objects, max_size=5))
def test_canonical_details_are_each_the_constructors(batch: list[dict[str, Any]]) -> None:
    plain = canonical_details(batch)
    assert plain is not None
    made = [
        Observation(Channel.EMAIL, "sendgrid", "m", "delivered", details=item).details
        for item in batch
    ]
    assert [orjson.dumps(item) for item in plain] == [orjson.dumps(item) for item in made]


def test_a_batch_too_deep_to_encode_whole_is_left_to_each_constructor() -> None:
    deep: dict[str, Any] = {}
    for _ in range(260):
        deep = {"n": deep}
    assert canonical_details([{"a": 1}, deep]) is None


@given(facts_given)
def test_trusted_facts_are_the_validated_ones(given_facts: dict[str, Any]) -> None:
    trusted, validated = ProviderFacts.trusted(**given_facts), ProviderFacts(**given_facts)
    assert trusted == validated
    expected = {k: v for k, v in attrs.asdict(validated).items() if v is not None}
    assert orjson.dumps(trusted.given()) == orjson.dumps(expected)  # stored in this order


every_fact: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {},
    optional={
        field.name: st.none() | st.text(max_size=5)
        for field in attrs.fields(ProviderFacts)
        if field.name != "attempt"
    }
    | {"attempt": st.none() | st.text(max_size=3) | st.integers(0, 99) | st.floats(0, 9)},
)


@given(every_fact)
def test_the_facts_given_are_every_stated_one_in_field_order(facts: dict[str, Any]) -> None:
    made = ProviderFacts(**facts)
    expected = {k: v for k, v in attrs.asdict(made).items() if v is not None}
    assert list(made.given().items()) == list(expected.items())


@given(st.text(max_size=MAX_TEXT_LENGTH + 2))
def test_clean_text_is_what_the_constructor_takes_unchanged(value: str) -> None:
    try:
        Observation(Channel.EMAIL, "sendgrid", value, "delivered")
    except ValueError:
        assert not is_clean_text(value)
    else:
        assert is_clean_text(value)


def test_clean_text_at_the_length_limit() -> None:
    assert is_clean_text("x" * MAX_TEXT_LENGTH)
    assert not is_clean_text("x" * (MAX_TEXT_LENGTH + 1))
    assert not is_clean_text(" x")
    assert not is_clean_text("")


def test_trusted_observation_times_stay_as_given() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    fields: dict[str, Any] = dict(
        channel=Channel.SMS, provider="twilio", provider_message_id="SM1", status="sent",
        occurred_at=at, event_id=None, details={}, provider_keys=(), facts=None,
    )  # fmt: skip
    assert Observation.trusted(**fields) == Observation(**fields)
