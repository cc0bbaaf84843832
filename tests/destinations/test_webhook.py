"""The webhook destination against a real HTTP server: batches, signatures, retries with
backoff honouring Retry-After, parking after N failures, and redrive after recovery."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from adapters.destinations import (
    RetryPolicy,
    WebhookDestination,
    deliver,
    redrive,
    replay,
    since,
)
from adapters.destinations.signature import verify_signature
from tests.destinations.conftest import Outbox, Waits, delivered
from tests.http_receiver import Receiver, Reply, running_receiver


def test_batches_arrive_signed_and_verify(outbox: Outbox, policy: RetryPolicy) -> None:
    entries = outbox.add(delivered(25))
    with running_receiver(secret="whsec_test") as server:
        hook = WebhookDestination("hook", server.url + "/engage", secret="whsec_test",
                                  batch_size=10)  # fmt: skip
        report = deliver(hook, outbox.view, outbox.ledger, policy)
    assert (report.delivered, report.batches, report.parked) == (25, 3, 0)
    assert [len(r.events()) for r in server.requests] == [10, 10, 5]
    for request in server.requests:
        assert request.path == "/engage"
        assert request.headers["content-type"] == "application/json"
        assert request.signature_ok
        assert verify_signature("whsec_test", request.headers["x-engage-signature"], request.body)
        assert not verify_signature("wrong", request.headers["x-engage-signature"], request.body)
    assert server.received_ids() == [e.message_id for e in entries]
    assert server.requests[0].events()[0] == entries[0].body
    assert outbox.ledger.cursor("hook") == entries[-1].position


def test_nothing_is_sent_twice_once_acknowledged(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    outbox.add(delivered(5))
    hook = WebhookDestination("hook", receiver.url)
    deliver(hook, outbox.view, outbox.ledger, policy)
    deliver(hook, outbox.view, outbox.ledger, policy)
    outbox.add(delivered(3, first=5))
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    assert report.delivered == 3
    assert Counter(receiver.acknowledged_ids()) == Counter(outbox.message_ids())
    assert "x-engage-signature" not in receiver.requests[0].headers  # no secret, no signature


def test_retries_back_off_and_honour_retry_after(
    outbox: Outbox, policy: RetryPolicy, waits: Waits, receiver: Receiver
) -> None:
    outbox.add(delivered(3))
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    receiver.script(
        Reply(500), Reply(503), Reply(429, headers=(("Retry-After", "7"),)),
        Reply(429, headers=(("Retry-After", later),)), Reply(200),
    )  # fmt: skip
    report = deliver(WebhookDestination("hook", receiver.url), outbox.view, outbox.ledger, policy)
    assert (report.delivered, report.parked) == (3, 0)
    assert [r.status for r in receiver.requests] == [500, 503, 429, 429, 200]
    assert waits[:3] == [1.0, 2.0, 7.0]  # backoff 1, 2; then what the server asked
    assert 15 < waits[3] <= 20  # an HTTP date: the time until then


def test_full_jitter_stays_under_the_exponential_cap() -> None:
    drawn = iter([0.5, 0.25, 0.0, 1.0, 1.0, 1.0])
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, random=lambda: next(drawn))
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 0.5, 0.0, 5.0, 5.0, 5.0]


def test_after_n_failures_the_batch_is_parked_then_redriven(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(12))
    hook = WebhookDestination("hook", receiver.url + "/secret/path?token=abc", batch_size=5)
    receiver.script(*[Reply(502, body=b"bad gateway")] * 5)
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    # the first batch is parked; the outage pauses the destination: the rest stays pending
    assert (report.delivered, report.parked, report.pending) == (0, 5, 7)
    assert outbox.ledger.cursor("hook") == entries[4].position
    (letter,) = outbox.ledger.dead_letters("hook")
    assert letter.attempts == 5
    assert [e.message_id for e in letter.entries] == [e.message_id for e in entries[:5]]
    assert letter.reason.startswith(f"HTTP 502 from {receiver.url}: bad gateway")
    assert "secret" not in letter.reason
    assert "token" not in letter.reason
    assert "gave up after 5 attempts" in letter.reason

    report = deliver(hook, outbox.view, outbox.ledger, policy)  # the server is back
    assert (report.delivered, report.pending) == (7, 0)
    redriven = redrive(hook, letter, outbox.ledger, policy)
    assert redriven.delivered == 5
    assert outbox.ledger.dead_letters("hook") == []
    (done,) = outbox.ledger.dead_letters("hook", include_redriven=True)
    assert done.redriven_at is not None
    assert Counter(receiver.acknowledged_ids()) == Counter(outbox.message_ids())


def test_client_errors_are_parked_at_once(
    outbox: Outbox, policy: RetryPolicy, waits: Waits, receiver: Receiver
) -> None:
    outbox.add(delivered(4))
    receiver.script(Reply(400, body=b'{"error": "bad field"}'))
    hook = WebhookDestination("hook", receiver.url, batch_size=2)
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    # a refusal is about those events, not an outage: the next batch goes on
    assert (report.delivered, report.parked, report.dead_letters) == (2, 2, 1)
    assert waits == []
    (letter,) = outbox.ledger.dead_letters()
    assert (letter.attempts, letter.reason) == (
        1,
        f'HTTP 400 from {receiver.url}: {{"error": "bad field"}}',
    )


def test_a_slow_receiver_times_out_and_is_retried(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    outbox.add(delivered(2))
    receiver.script(Reply(200, delay=1.0))
    hook = WebhookDestination("hook", receiver.url, timeout=0.2)
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    assert (report.delivered, report.parked) == (2, 0)
    assert len(receiver.requests) == 2  # the timed-out one arrived too: at least once


def test_an_unreachable_url_is_transient_then_parked(outbox: Outbox, policy: RetryPolicy) -> None:
    outbox.add(delivered(2))
    with running_receiver() as server:
        url = server.url  # a port nobody listens on once the server stops
    report = deliver(WebhookDestination("hook", url), outbox.view, outbox.ledger, policy)
    assert report.parked == 2
    (letter,) = outbox.ledger.dead_letters()
    assert "unreachable" in letter.reason
    assert letter.attempts == 5


def test_redirects_are_not_followed(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    outbox.add(delivered(1))
    receiver.script(Reply(301, headers=(("Location", receiver.url + "/elsewhere"),)))
    hook = WebhookDestination("hook", receiver.url)
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    # a moved URL answers every batch alike: a misconfiguration, not a reason to park them all
    assert report.stopped is not None
    assert report.stopped.misconfigured
    assert "HTTP 301" in report.stopped.reason
    assert "final URL" in report.stopped.reason
    assert (report.parked, report.pending) == (0, 1)
    assert outbox.ledger.dead_letters() == []
    assert len(receiver.requests) == 1


def test_a_retry_after_too_long_parks_rather_than_blocks(
    outbox: Outbox, policy: RetryPolicy, waits: Waits, receiver: Receiver
) -> None:
    outbox.add(delivered(1))
    receiver.script(Reply(503, headers=(("Retry-After", "3600"),)))
    deliver(WebhookDestination("hook", receiver.url), outbox.view, outbox.ledger, policy)
    (letter,) = outbox.ledger.dead_letters()
    assert "asked to wait 3600 s" in letter.reason
    assert waits == []


def test_replay_resends_history_without_moving_the_cursor(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(10))
    hook = WebhookDestination("hook", receiver.url)
    deliver(hook, outbox.view, outbox.ledger, policy)
    receiver.reset()
    report = replay(hook, outbox.view, outbox.ledger, policy, from_position=entries[6].position)
    assert report.delivered == 4
    assert receiver.received_ids() == [e.message_id for e in entries[6:]]
    assert outbox.ledger.cursor("hook") == entries[-1].position
    receiver.reset()
    moment = datetime.fromisoformat(entries[8].body["timestamp"])
    replay(hook, outbox.view, outbox.ledger, policy, keep=since(moment))
    assert receiver.received_ids() == [e.message_id for e in entries[8:]]


def test_a_redrive_split_differently_keeps_only_what_failed(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(6))
    receiver.script(Reply(400))
    deliver(WebhookDestination("hook", receiver.url, batch_size=6), outbox.view, outbox.ledger,
            policy)  # fmt: skip
    (letter,) = outbox.ledger.dead_letters()
    # redriven in batches of 2: the first delivers, the next two are refused
    receiver.script(Reply(200), Reply(422), Reply(409))
    smaller = WebhookDestination("hook", receiver.url, batch_size=2)
    report = redrive(smaller, letter, outbox.ledger, policy)
    assert (report.delivered, report.parked) == (2, 4)
    kept, split = outbox.ledger.dead_letters()
    assert kept.id == letter.id
    assert [e.position for e in kept.entries] == [e.position for e in entries[2:4]]
    assert kept.reason.startswith("HTTP 422")
    assert kept.attempts == 2
    assert (split.source, split.attempts) == ("redrive", 2)
    assert [e.position for e in split.entries] == [e.position for e in entries[4:]]
    for parked in outbox.ledger.dead_letters():
        redrive(smaller, parked, outbox.ledger, policy)
    assert outbox.ledger.dead_letters() == []
    assert Counter(receiver.acknowledged_ids()) == Counter(outbox.message_ids())


def test_a_url_urllib_refuses_stops_without_leaking_it(
    outbox: Outbox, policy: RetryPolicy, waits: Waits
) -> None:
    outbox.add(delivered(3))
    # settings refuse this URL; built directly, urllib's InvalidURL quotes its path and query
    hook = WebhookDestination("hook", "http://127.0.0.1:9/hook path?token=SECRET")
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    assert report.stopped is not None
    assert report.stopped.misconfigured  # not retried as if the receiver were down
    assert "InvalidURL" in report.stopped.reason
    assert "SECRET" not in report.stopped.reason
    assert "path" not in report.stopped.reason
    assert outbox.ledger.dead_letters() == []
    assert waits == []


class _SuperscriptRetryAfter(BaseHTTPRequestHandler):
    """503 with `Retry-After: ²`, sent as the one byte 0xB2 (http.server writes headers in
    Latin-1, as a server might): http.client reads it back as "²", a digit to str.isdigit."""

    answers: ClassVar[list[int]] = []

    def do_POST(self) -> None:  # http.server's naming
        self.rfile.read(int(self.headers["Content-Length"]))
        status = 503 if len(self.answers) < 2 else 200
        self.answers.append(status)
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "²")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_retry_after_that_is_not_a_number_is_ignored(
    outbox: Outbox, policy: RetryPolicy, waits: Waits
) -> None:
    outbox.add(delivered(2))
    _SuperscriptRetryAfter.answers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SuperscriptRetryAfter)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        report = deliver(WebhookDestination("hook", url), outbox.view, outbox.ledger, policy)
    finally:
        server.shutdown()
        server.server_close()
    # float("²") raised ValueError inside the HTTPError handler: now the header is ignored
    assert _SuperscriptRetryAfter.answers == [503, 503, 200]
    assert (report.delivered, report.parked) == (2, 0)
    assert waits == [1.0, 2.0]  # the usual backoff
