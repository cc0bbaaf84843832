"""The Segment destination against a real HTTP server: `/v1/batch`, Basic auth with the write
key, batches within 500 KB and 2,500 events, and events over 32 KB parked with the reason while
the rest deliver."""

from __future__ import annotations

import base64
from collections import Counter

import orjson

from adapters.destinations import RetryPolicy, SegmentDestination, deliver, redrive
from adapters.destinations.segment import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from tests.destinations.conftest import Outbox, delivered, oversized
from tests.http_receiver import running_receiver


def test_basic_auth_is_the_write_key_and_the_path_is_v1_batch(
    outbox: Outbox, policy: RetryPolicy
) -> None:
    entries = outbox.add(delivered(3))
    with running_receiver(write_key="wk_123") as server:
        segment = SegmentDestination("segment", "wk_123", base_url=server.url + "/collector/")
        report = deliver(segment, outbox.view, outbox.ledger, policy)
        wrong = SegmentDestination("wrong", "not-the-key", base_url=server.url)
        refused = deliver(wrong, outbox.view, outbox.ledger, policy)
    assert report.delivered == 3
    (request, other) = server.requests
    assert request.path == "/collector/v1/batch"
    assert request.auth_ok
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"wk_123:").decode()
    body = request.events()
    assert body == [e.body for e in entries]
    assert "sentAt" in orjson.loads(request.body)
    assert other.auth_ok is False
    # a wrong write key would fail every batch alike: the destination stops, nothing parked
    assert (refused.delivered, refused.parked, refused.pending) == (0, 0, 3)
    assert outbox.ledger.dead_letters("wrong") == []
    assert outbox.ledger.cursor("wrong") == 0
    assert refused.stopped is not None
    assert refused.stopped.misconfigured
    assert refused.stopped.reason.startswith("HTTP 401")
    assert "write key" in refused.stopped.reason
    assert "not-the-key" not in refused.stopped.reason


def test_batches_stay_within_500_kb_and_2500_events(outbox: Outbox, policy: RetryPolicy) -> None:
    outbox.add(delivered(150, reason="p" * 5000))  # ~5.6 KB events: about 88 to 500 KB
    outbox.add(delivered(1200, first=150))  # ~0.5 KB events
    with running_receiver(write_key="wk") as server:
        segment = SegmentDestination("segment", "wk", base_url=server.url)
        report = deliver(segment, outbox.view, outbox.ledger, policy)
    assert (report.delivered, report.parked) == (1350, 0)
    for request in server.requests:
        assert len(request.body) <= MAX_BATCH_BYTES
        assert len(request.events()) <= MAX_BATCH_EVENTS
    assert max(len(r.body) for r in server.requests) > MAX_BATCH_BYTES - 6000  # packed full
    assert Counter(server.acknowledged_ids()) == Counter(outbox.message_ids())
    # real events are over 200 bytes, so 500 KB binds before 2,500 events; the count still holds
    assert SegmentDestination("s", "wk", batch_size=10_000).batch_size == MAX_BATCH_EVENTS
    assert SegmentDestination("s", "wk").fits(MAX_BATCH_EVENTS, 100 * MAX_BATCH_EVENTS)
    assert not SegmentDestination("s", "wk").fits(MAX_BATCH_EVENTS + 1, 100 * MAX_BATCH_EVENTS)


def test_events_over_32_kb_are_parked_with_the_reason_and_the_rest_deliver(
    outbox: Outbox, policy: RetryPolicy
) -> None:
    outbox.add(delivered(3))
    big = outbox.add([oversized("big-1")])
    outbox.add(delivered(3, first=3))
    just_fits = outbox.add([oversized("fits", size=MAX_EVENT_BYTES - 1200)])
    with running_receiver(write_key="wk") as server:
        segment = SegmentDestination("segment", "wk", base_url=server.url)
        report = deliver(segment, outbox.view, outbox.ledger, policy)
        assert (report.delivered, report.parked, report.dead_letters) == (7, 1, 1)
        (letter,) = outbox.ledger.dead_letters("segment")
        assert [e.message_id for e in letter.entries] == [big[0].message_id]
        assert "over Segment's limit of 32768 bytes (32 KB) per event" in letter.reason
        assert letter.attempts == 0  # never sent: it cannot be
        assert just_fits[0].message_id in server.received_ids()
        assert big[0].message_id not in server.received_ids()
        assert outbox.ledger.cursor("segment") == outbox.view.last_position()
        # a redrive cannot change what Segment accepts: the letter stays, with its reason
        again = redrive(segment, letter, outbox.ledger, policy)
        assert again.parked == 1
        (still,) = outbox.ledger.dead_letters("segment")
        assert still.id == letter.id
        assert "32 KB" in still.reason
