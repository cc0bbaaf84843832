"""The SendGrid adapter's fast path (one canonical encoding per batch, observations built
trusted) yields, event by event, what its validating path yields: the same observation with
`details` in the same key order, the same send record, or the same refusal in the same words."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import orjson
from hypothesis import given
from hypothesis import strategies as st

from adapters.providers.base import InboundRequest
from adapters.providers.sendgrid import SendGridAdapter
from adapters.providers.sendgrid_events import STATUSES, Batch, map_event
from engage_core import Channel, Observation, Send
from engage_core.lifecycles import lifecycle
from engage_core.observations import canonical_details

keys = st.text(max_size=6)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=10,
)
ids = st.sampled_from(["m1", "m4.filter01.x", "m5.recvd-2"])
odd_ids = st.sampled_from([" m2", "m3 ", "", "   ", "x" * 1100, ".filter1"]) | values


def mostly(good: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> Any:
    """Good values nine times in ten: most events map, and each odd value is met alone."""
    return st.integers(0, 9).flatmap(lambda n: odd if n == 0 else good)


events = st.fixed_dictionaries(
    {
        "event": mostly(st.sampled_from([*STATUSES, " Open "]), st.just("weird") | values),
        "email": mostly(st.sampled_from(["a@example.com", " b@example.com "]), values),
        "sg_message_id": mostly(ids, odd_ids),
        "timestamp": mostly(
            st.sampled_from([1_780_000_000, 1.5, "1780000000"]),
            st.sampled_from([True, 1e300, 10**13, -(10**12)]) | values,
        ),
        "sg_event_id": mostly(st.sampled_from(["e1", "e2"]), odd_ids),
        "asm_group_id": mostly(st.sampled_from([42, "42"]), st.sampled_from(["x", True]) | values),
    },
    optional={
        "attempt": st.sampled_from(["1", 2, True, False, ""]) | values,
        "url": st.text(max_size=8) | values,
        "reason": st.text(max_size=8) | values,
        "type": st.sampled_from(["bounce", "blocked"]) | values,
        "sg_machine_open": st.booleans() | values,
        "user_id": st.sampled_from(["u1", " ", 7]) | values,
        "marketing_campaign_id": st.sampled_from([12, "c"]) | values,
        "group": values,
        "é": values,
        "Z": values,
        "": values,
    },
)


def _as_stored(item: Observation | Send) -> tuple[Any, ...]:
    if isinstance(item, Send):
        return ("send", item, item.dedup_keys)
    facts = None if item.facts is None else orjson.dumps(item.facts.given())
    return (
        "observation",
        item,
        orjson.dumps(item.details),
        item.dedup_keys,
        facts,
        item.message_id,
    )


def _outcome(event: object, batch: Batch, canonical: Any) -> tuple[Any, ...]:
    try:
        observation, send = map_event(event, batch, canonical)
    except Exception as error:
        return ("refused", type(error), str(error))
    return (_as_stored(observation), None if send is None else _as_stored(send))


@given(st.lists(events, max_size=6))
def test_the_fast_path_maps_each_event_as_the_validating_path_does(
    batch: list[dict[str, Any]],
) -> None:
    plain = canonical_details(batch)
    assert plain is not None
    fast, slow = Batch(), Batch()  # ids and facts shared by the fast one's events
    for event, canonical in zip(batch, plain, strict=True):
        assert _outcome(event, fast, canonical) == _outcome(event, slow, None)
    assert fast.sends == slow.sends


def _parsed(body: bytes) -> tuple[Any, ...]:
    parsed = SendGridAdapter(None).parse(InboundRequest(body, {"Content-Type": "application/json"}))
    return parsed.received, [_as_stored(item) for item in parsed.inputs], parsed.quarantined


@given(st.lists(events, max_size=6))
def test_a_batch_parses_as_it_does_when_it_cannot_be_made_canonical_whole(
    batch: list[dict[str, Any]],
) -> None:
    body = orjson.dumps(batch)
    with patch("adapters.providers.sendgrid.canonical_details", return_value=None):
        validating = _parsed(body)
    assert _parsed(body) == validating


def test_every_status_an_event_maps_to_is_canonical_on_email() -> None:
    """The fast path takes `STATUSES` and `machine_open` as canonical without asking."""
    table = lifecycle(Channel.EMAIL)
    for status in (*STATUSES.values(), "machine_open"):
        assert table.canonical(status) == status
