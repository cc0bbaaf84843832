"""The shipped raw-request strategies draw what a provider really sends."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import given, settings

from engage_core.simulation.requests import ProviderRequest
from engage_core.testing import sendgrid_batches


@settings(max_examples=200, deadline=None)
@given(sendgrid_batches(messages=3, retries=False))
def test_sendgrid_batches_are_about_distinct_messages(requests: list[ProviderRequest]) -> None:
    """Two messages drawn with one id would make identical events under one `sg_event_id`,
    repeats the strategy does not mark as retries."""
    events = [event for request in requests for event in json.loads(request.body)]
    ids = Counter(event["sg_event_id"] for event in events)
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
