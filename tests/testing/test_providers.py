"""The shipped strategies for what providers send, and how it arrives, draw what they say."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from engage_core.simulation.requests import ProviderRequest
from engage_core.testing import disorder, sendgrid_batches


@settings(max_examples=200, deadline=None)
@given(sendgrid_batches(messages=3, retries=False))
def test_sendgrid_batches_are_about_distinct_messages(requests: list[ProviderRequest]) -> None:
    """Two messages drawn with one id would make identical events under one `sg_event_id`,
    repeats the strategy does not mark as retries."""
    events = [event for request in requests for event in json.loads(request.body)]
    ids = Counter(event["sg_event_id"] for event in events)
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]


@given(st.lists(st.integers(), max_size=7, unique=True), st.data())
def test_disorder_loses_at_most_half(items: list[int], data: st.DataObject) -> None:
    arrived = data.draw(disorder(items, drop=True, duplicates=False))
    assert set(arrived) <= set(items)
    assert len(items) - len(arrived) <= len(items) // 2


@given(st.lists(st.integers(), max_size=7), st.data())
def test_disorder_without_reordering_keeps_the_order(items: list[int], data: st.DataObject) -> None:
    assert data.draw(disorder(items, reorder=0, duplicates=False)) == items
