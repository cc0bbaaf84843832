"""Parsing provider-neutral observations: clear errors naming the field, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage_core import Channel, InvalidInput, Observation, Send, parse_observation

GOOD = {"channel": "sms", "provider": "twilio", "provider_message_id": "SM1", "status": "sent"}


def test_minimal_observation() -> None:
    observation = parse_observation(GOOD)
    assert observation.channel is Channel.SMS
    assert observation.occurred_at is None
    assert observation.details == {}


def test_case_and_space_are_forgiven_where_they_carry_no_meaning() -> None:
    observation = parse_observation(
        {**GOOD, "channel": " SMS ", "provider": "Twilio", "status": "SENT"}
    )
    assert (observation.channel, observation.provider, observation.status) == (
        Channel.SMS, "twilio", "sent",
    )  # fmt: skip
    assert observation.message_id == parse_observation(GOOD).message_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T01:00:00+01:00", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T00:00:00", datetime(2026, 1, 1, tzinfo=UTC)),
        (1767225600, datetime(2026, 1, 1, tzinfo=UTC)),
        (1767225600.0, datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_times(value: object, expected: datetime) -> None:
    assert parse_observation({**GOOD, "occurred_at": value}).occurred_at == expected


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"channel": None}, "channel"),
        ({"provider": ""}, "provider"),
        ({"provider": 7}, "provider"),
        ({"provider_message_id": None}, "provider_message_id"),
        ({"status": "opened"}, "status"),
        ({"status": "open"}, "status"),  # engagement is email's alone
        ({"occurred_at": "soon"}, "occurred_at"),
        ({"occurred_at": True}, "occurred_at"),
        ({"occurred_at": 1e300}, "occurred_at"),
        ({"event_id": ""}, "event_id"),
        ({"details": [1]}, "details"),
        ({"extra": 1}, "observation"),
        ({"": 1}, "observation"),
    ],
)
def test_each_bad_field_is_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_observation({**GOOD, **change})
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_dedup_keys_prefer_the_event_id_per_status() -> None:
    with_id = parse_observation({**GOOD, "event_id": "abc", "details": {"x": 1}})
    same_id = parse_observation({**GOOD, "event_id": "abc", "details": {"x": 2}})
    assert with_id.dedup_keys == same_id.dedup_keys == ("id:sent:abc",)
    other_status = parse_observation({**GOOD, "status": "delivered", "event_id": "abc"})
    assert other_status.dedup_keys != with_id.dedup_keys  # an id reused for another status
    a = parse_observation({**GOOD, "details": {"a": 1, "b": 2}})
    b = parse_observation({**GOOD, "details": {"b": 2, "a": 1}})
    c = parse_observation({**GOOD, "details": {"a": 1, "b": 3}})
    assert a.dedup_keys == b.dedup_keys != c.dedup_keys


def test_one_instant_digests_the_same_in_any_zone() -> None:
    utc = parse_observation({**GOOD, "occurred_at": "2026-01-01T00:00:00Z"})
    paris = parse_observation({**GOOD, "occurred_at": "2026-01-01T01:00:00+01:00"})
    assert utc.occurred_at == paris.occurred_at
    assert paris.occurred_at is not None
    assert paris.occurred_at.utcoffset() == timedelta(0)  # stored in UTC
    assert utc.dedup_keys == paris.dedup_keys


def test_provider_keys_join_the_event_id() -> None:
    observation = Observation(
        channel=Channel.EMAIL, provider="sendgrid", provider_message_id="m", status="open",
        event_id="sg1", provider_keys=("m|open|1767225600|",),
    )  # fmt: skip
    assert observation.dedup_keys == ("id:open:sg1", "key:m|open|1767225600|")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "Delivered"}, "status"),  # the constructor wants the canonical word
        ({"status": "open"}, "status"),
        ({"provider": " "}, "provider"),
        ({"provider_message_id": ""}, "provider_message_id"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"channel": "fax"}, "channel"),
        ({"event_id": ""}, "event_id"),
        ({"provider_keys": ("",)}, "provider_keys"),
    ],
)
def test_the_constructor_validates_too(fields: dict[str, object], field: str) -> None:
    """A bad status stored once would break its message for good: construction refuses it."""
    base: dict[str, object] = {
        "channel": Channel.SMS, "provider": "twilio", "provider_message_id": "S1",
        "status": "delivered",
    }  # fmt: skip
    with pytest.raises(InvalidInput) as raised:
        Observation(**{**base, **fields})  # type: ignore[arg-type]
    assert raised.value.field == field


def test_send_validation() -> None:
    send = Send.create(
        "EMAIL", "SendGrid", "m1", to="a@example.com", sent_at="2026-01-01T00:00:00Z"
    )
    assert send.provider == "sendgrid"
    assert send.sent_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert send.message_id == Observation.create("email", "sendgrid", "m1", "open").message_id
    with pytest.raises(InvalidInput, match=r"^send: unknown field 'colour'"):
        Send.create("email", "sendgrid", "m1", colour="red")
    with pytest.raises(InvalidInput, match=r"^channel: "):
        Send.create("pigeon", "sendgrid", "m1")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    # anything JSON can say, shaped like an observation or not
    st.dictionaries(
        st.sampled_from([*GOOD, "occurred_at", "event_id", "details", "other"]),
        json_values | st.sampled_from(["sms", "email", "whatsapp", "sent", "open", "x"]),
    )
    | json_values
)
def test_any_json_is_accepted_or_refused_with_a_reason(data: object) -> None:
    outcome = _parse_or_refusal(data)
    if isinstance(outcome, InvalidInput):
        assert outcome.field
        assert outcome.problem
    else:
        assert outcome.dedup_keys
        assert outcome.message_id


def _parse_or_refusal(data: object) -> Observation | InvalidInput:
    try:
        return parse_observation(data)
    except InvalidInput as refusal:
        return refusal


def test_every_way_in_lands_on_the_same_message() -> None:
    from_json = parse_observation({**GOOD, "provider_message_id": " SM1 "})
    send = Send.create("sms", "Twilio", " SM1 ", to=" +15550100 ")
    assert send.message_id == from_json.message_id
    assert send.to == "+15550100"
    with pytest.raises(InvalidInput, match="surrounding whitespace"):
        Observation(channel=Channel.SMS, provider="twilio", provider_message_id=" SM1 ",
                    status="sent")  # fmt: skip


@pytest.mark.parametrize(
    "details", [{1: "x"}, {"s": {1, 2}}, {"big": 2**70}, ["not", "a", "mapping"], "text"]
)
def test_details_must_be_plain_json(details: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        Observation(channel=Channel.SMS, provider="twilio", provider_message_id="S1",
                    status="sent", details=details)  # fmt: skip
    assert raised.value.field == "details"


def test_details_are_stored_as_the_json_they_will_load_as() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    observation = Observation(channel=Channel.SMS, provider="twilio", provider_message_id="S1",
                              status="sent", details={"at": moment, "n": (1, 2)})  # fmt: skip
    assert observation.details == {"at": "2026-01-01T00:00:00Z", "n": [1, 2]}


def test_ids_have_a_sane_length() -> None:
    with pytest.raises(InvalidInput, match="longer than"):
        parse_observation({**GOOD, "provider_message_id": "x" * 5_000})
    assert parse_observation({**GOOD, "provider_message_id": "x" * 100}).provider_message_id
