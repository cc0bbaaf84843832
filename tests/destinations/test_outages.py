"""Outages, refused settings and size limits must not turn the backlog into dead letters:
replay stops at the first outage, `--follow` rests a destination that stopped (a cooldown that
doubles, honours Retry-After, and resets on success), 401/403/404 stop without parking, and a
413 splits the batch instead of parking good events."""

from __future__ import annotations

import pytest

from adapters.destinations import (
    Cooldown,
    Report,
    RetryPolicy,
    Stopped,
    WebhookDestination,
    deliver,
    redrive,
    replay,
)
from tests.destinations.conftest import Outbox, delivered
from tests.http_receiver import Receiver, Reply


def test_replay_stops_at_the_first_outage(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(12))
    receiver.script(*[Reply(503)] * 15)  # down for good
    hook = WebhookDestination("hook", receiver.url, batch_size=5)
    report = replay(hook, outbox.view, outbox.ledger, policy)
    # one batch gave up and was parked; the rest is not replayed, not parked
    (letter,) = outbox.ledger.dead_letters("hook")
    assert (letter.source, letter.attempts) == ("replay", 5)
    assert [e.position for e in letter.entries] == [e.position for e in entries[:5]]
    assert len(receiver.requests) == 5
    assert report.stopped is not None
    assert not report.stopped.misconfigured
    assert (report.delivered, report.parked, report.position, report.pending) == (
        0, 5, entries[4].position, 7,
    )  # fmt: skip
    assert outbox.ledger.cursor("hook") is None  # replay never touches the live cursor

    receiver.reset()  # back up: replay from where it stopped sends the rest
    again = replay(hook, outbox.view, outbox.ledger, policy, from_position=report.position + 1)
    assert (again.delivered, again.stopped, again.pending) == (7, None, 0)
    assert receiver.received_ids() == [e.message_id for e in entries[5:]]


def test_replay_stopped_by_refused_settings_parks_nothing(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(6))
    receiver.script(Reply(200), Reply(403, body=b"forbidden"))
    hook = WebhookDestination("hook", receiver.url, batch_size=2)
    report = replay(hook, outbox.view, outbox.ledger, policy)
    assert report.stopped is not None
    assert report.stopped.misconfigured
    assert (report.delivered, report.parked, report.pending) == (2, 0, 4)
    assert report.position == entries[1].position  # resume after it
    assert outbox.ledger.dead_letters() == []


@pytest.mark.parametrize("status", [401, 403, 404])
def test_refused_settings_stop_the_destination_without_parking(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver, status: int
) -> None:
    outbox.add(delivered(12))
    receiver.script(*[Reply(status, body=b"no such hook")] * 3)
    hook = WebhookDestination("hook", receiver.url + "/wrong?token=SECRET", batch_size=5)
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    # every batch would be refused alike: parking them would park the whole backlog
    assert outbox.ledger.dead_letters() == []
    assert outbox.ledger.cursor("hook") == 0
    assert (report.delivered, report.parked, report.pending) == (0, 0, 12)
    assert len(receiver.requests) == 1  # not retried: retrying cannot fix a key
    assert report.stopped is not None
    assert report.stopped.misconfigured
    assert report.stopped.reason.startswith(f"HTTP {status} from {receiver.url}: no such hook")
    assert "SECRET" not in report.stopped.reason

    receiver.reset()  # fixed: everything goes, in order
    fixed = deliver(hook, outbox.view, outbox.ledger, policy)
    assert (fixed.delivered, fixed.pending, fixed.stopped) == (12, 0, None)
    assert receiver.received_ids() == [e.message_id for e in outbox.view.entries()]


def test_refused_settings_after_some_batches_keep_what_was_delivered(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(6))
    receiver.script(Reply(200), Reply(401))
    hook = WebhookDestination("hook", receiver.url, batch_size=2)
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    assert (report.delivered, report.parked, report.pending) == (2, 0, 4)
    assert outbox.ledger.cursor("hook") == entries[1].position


def test_a_redrive_refused_for_its_settings_leaves_the_letter_as_it_was(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    outbox.add(delivered(3))
    receiver.script(Reply(400, body=b"bad field"))
    hook = WebhookDestination("hook", receiver.url)
    deliver(hook, outbox.view, outbox.ledger, policy)
    (letter,) = outbox.ledger.dead_letters()
    receiver.script(Reply(401))
    report = redrive(hook, letter, outbox.ledger, policy)
    assert report.stopped is not None
    assert report.stopped.misconfigured
    assert outbox.ledger.dead_letters() == [letter]  # same reason, same attempts


def test_a_redrive_that_gives_up_keeps_the_untried_rest_in_the_letter(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(6))
    receiver.script(Reply(400))
    deliver(WebhookDestination("hook", receiver.url, batch_size=6), outbox.view, outbox.ledger,
            policy)  # fmt: skip
    (letter,) = outbox.ledger.dead_letters()
    receiver.script(Reply(200), *[Reply(503)] * 5)  # redriven by 2: one goes, then it is down
    report = redrive(WebhookDestination("hook", receiver.url, batch_size=2), letter,
                     outbox.ledger, policy)  # fmt: skip
    assert report.stopped is not None
    assert (report.delivered, report.parked) == (2, 2)
    (kept,) = outbox.ledger.dead_letters()
    assert [e.position for e in kept.entries] == [e.position for e in entries[2:]]
    assert "gave up after 5 attempts" in kept.reason
    assert len(receiver.requests) == 1 + 1 + 5  # the last pair was never sent


def test_413_splits_the_batch_and_parks_only_the_single_event_refused(
    outbox: Outbox, policy: RetryPolicy, receiver: Receiver
) -> None:
    entries = outbox.add(delivered(4))
    too_large = Reply(413, body=b"payload too large")
    # 4 events: too large; the first two go; the last two: too large; the 3rd goes, the 4th not
    receiver.script(too_large, Reply(200), too_large, Reply(200), too_large)
    hook = WebhookDestination("hook", receiver.url, batch_size=10)
    report = deliver(hook, outbox.view, outbox.ledger, policy)
    assert [len(r.events()) for r in receiver.requests] == [4, 2, 2, 1, 1]
    assert (report.delivered, report.parked, report.dead_letters) == (3, 1, 1)
    (letter,) = outbox.ledger.dead_letters()
    assert [e.position for e in letter.entries] == [entries[3].position]
    assert (letter.attempts, letter.reason) == (
        1,
        f"HTTP 413 from {receiver.url}: payload too large",
    )
    assert receiver.acknowledged_ids() == [e.message_id for e in entries[:3]]
    assert outbox.ledger.cursor("hook") == entries[-1].position


def stopped(retry_after: float | None = None, delivered: int = 0) -> Report:
    return Report("hook", delivered=delivered, stopped=Stopped("down", retry_after=retry_after))


def test_the_cooldown_doubles_up_to_its_limit_and_resets_on_success() -> None:
    now = [1000.0]
    cooldown = Cooldown(first=30.0, longest=900.0, clock=lambda: now[0])
    assert cooldown.remaining("hook") == 0
    rests = [cooldown.record("hook", stopped()) for _ in range(7)]
    assert rests == [30, 60, 120, 240, 480, 900, 900]
    assert cooldown.remaining("hook") == 900
    assert cooldown.remaining("other") == 0  # per destination
    now[0] += 899
    assert cooldown.remaining("hook") == 1
    now[0] += 1
    assert cooldown.remaining("hook") == 0
    assert cooldown.record("hook", Report("hook", delivered=3)) == 0  # it is back
    assert cooldown.record("hook", stopped()) == 30  # a new outage starts over
    assert cooldown.record("hook", stopped(delivered=5)) == 30  # it was up a moment ago
    for _ in range(2000):  # a very long outage does not overflow
        assert cooldown.record("hook", stopped()) <= 900


def test_the_cooldown_honours_a_longer_retry_after() -> None:
    cooldown = Cooldown(first=30.0, longest=900.0, clock=lambda: 0.0)
    # a Retry-After beyond max_retry_after parked the batch; the server's wait still holds
    assert cooldown.record("hook", stopped(retry_after=3600)) == 3600
    assert cooldown.record("hook", stopped(retry_after=5)) == 60
    assert cooldown.remaining("hook") == 60
