"""A property: whatever a real HTTP destination answers (a drawn script of successes, outages,
throttling and refusals), delivery followed by redrives ends with every outbox event
received, and every event acknowledged exactly once.

At least once, made precise: a batch may reach the server more than once only when the
server failed it (a 5xx, a 429, a refusal), so after all redrives the set of received
messageIds equals the outbox's, and the deliveries the server acknowledged (2xx) contain each
messageId once; with the outbox and the ledger in either view database (fewer examples in
PostgreSQL). More examples with HYPOTHESIS_PROFILE=slow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.destinations import RetryPolicy, WebhookDestination, deliver, redrive
from tests.destinations.conftest import Outbox, delivered
from tests.http_receiver import Receiver, Reply, running_receiver
from tests.views.backends import BACKENDS, ViewBackend, examples

VIEW_BACKENDS = BACKENDS

SECRET = "whsec_property"
ANSWERS = st.sampled_from(
    [
        Reply(200), Reply(500), Reply(502), Reply(503), Reply(408), Reply(400), Reply(401),
        Reply(429, headers=(("Retry-After", "2"),)), Reply(413, body=b"too large"),
    ]
)  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


PROFILE = settings(
    max_examples=settings().max_examples,  # the active profile's: default, or slow
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_every_event_arrives_and_is_acknowledged_once(
    server: Receiver, view_backend: ViewBackend
) -> None:
    @examples(view_backend, PROFILE)
    @given(
        waves=st.lists(st.integers(1, 15), min_size=1, max_size=3),
        batch_size=st.integers(1, 8),
        max_attempts=st.integers(1, 4),
        script=st.lists(ANSWERS, max_size=30),
    )
    def arrives_once(
        waves: list[int], batch_size: int, max_attempts: int, script: list[Reply]
    ) -> None:
        with view_backend.fresh() as backend:
            delivers(server, Outbox(backend), waves, batch_size, max_attempts, script)

    arrives_once()


def delivers(
    server: Receiver,
    outbox: Outbox,
    waves: list[int],
    batch_size: int,
    max_attempts: int,
    script: list[Reply],
) -> None:
    """Waves of events delivered through a drawn script of answers, then redriven: each
    received, each acknowledged once."""
    server.reset(secret=SECRET)
    server.script(*script)
    waited: list[float] = []
    policy = RetryPolicy(max_attempts=max_attempts, sleep=waited.append)
    hook = WebhookDestination("hook", server.url, secret=SECRET, batch_size=batch_size)
    try:
        first = 0
        for size in waves:  # events arrive between runs
            outbox.add(delivered(size, first=first))
            first += size
            deliver(hook, outbox.view, outbox.ledger, policy)
        for _ in range(len(script) + 10):
            if deliver(hook, outbox.view, outbox.ledger, policy).pending == 0:
                break
        for _ in range(len(script) + 10):
            letters = outbox.ledger.dead_letters("hook")
            if not letters:
                break
            for letter in letters:
                redrive(hook, letter, outbox.ledger, policy)

        assert outbox.ledger.dead_letters("hook") == []
        assert outbox.ledger.cursor("hook") == outbox.view.last_position()
        wanted = outbox.message_ids()
        assert len(wanted) == sum(waves)
        assert set(server.received_ids()) == wanted
        acknowledged = Counter(server.acknowledged_ids())
        assert set(acknowledged) == wanted
        assert set(acknowledged.values()) == {1}
        assert all(r.signature_ok for r in server.requests)
        assert all(0 <= w <= policy.max_delay for w in waited)
    finally:
        outbox.close()
