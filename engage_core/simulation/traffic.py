"""Seeded message traffic: realistic provider reports with the mess providers really make.

Each message walks its channel's lifecycle along real edges; the provider reports some steps
(Twilio never reports the initial status, Meta skips `delivered` when a message is read at once),
resends some reports (duplicates), and the whole stream arrives shuffled within a window (late
and out-of-order reports). Email messages pick up engagement. Same seed, same traffic.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta

import attrs

from engage_core.channels import USUAL_PROVIDERS, Channel
from engage_core.lifecycles import lifecycle
from engage_core.observations import Observation, Send

__all__ = [
    "Traffic",
    "simulate",
]


_ENGAGEMENT_WEIGHTS = {
    "open": 6, "machine_open": 2, "click": 3, "spamreport": 1, "unsubscribe": 1,
    "group_unsubscribe": 1, "group_resubscribe": 1,
}  # fmt: skip
# How likely each step is, against 10 for a step on the happy path.
_STEP_WEIGHTS = {
    "scheduled": 1, "accepted": 3, "canceled": 2, "failed": 1, "partially_delivered": 0,
    "undelivered": 1, "dropped": 1, "deferred": 2, "bounced": 1, "read": 4,
}  # fmt: skip
# Contradicting reports a provider sometimes sends after a final one (several devices, retries).
_CONTRADICTIONS = {"delivered": "undelivered", "undelivered": "delivered", "bounced": "delivered"}


@attrs.frozen
class Traffic:
    """The inputs of a simulated run, in arrival order."""

    inputs: tuple[Observation | Send, ...]
    message_count: int

    @property
    def observations(self) -> tuple[Observation, ...]:
        return tuple(item for item in self.inputs if isinstance(item, Observation))


def _walk(rng: random.Random, channel: Channel, inbound: bool) -> list[str]:
    rules = lifecycle(channel)
    status = "receiving" if inbound else rules.initial
    path = [status]
    while True:
        onward = sorted(
            (dest for (source, dest) in rules.edges if source == status),
            key=rules.rank.__getitem__,
        )
        stop_chance = 0.7 if status == "delivered" else 0.08
        if not onward or rng.random() < stop_chance:
            return path
        weights = [_STEP_WEIGHTS.get(dest, 10) for dest in onward]
        status = rng.choices(onward, weights)[0]
        path.append(status)


@attrs.frozen
class _Walk:
    """One simulated message: who carries it, and the statuses it goes through."""

    channel: Channel
    provider: str
    provider_message_id: str
    path: list[str]
    inbound: bool

    def report(self, status: str, moment: datetime, event_id: str) -> Observation:
        return Observation(
            channel=self.channel,
            provider=self.provider,
            provider_message_id=self.provider_message_id,
            status=status,
            occurred_at=moment,
            event_id=f"ev-{self.provider_message_id}-{event_id}",
        )


def _draw_walk(rng: random.Random, index: int) -> _Walk:
    channel = rng.choice(list(Channel))
    provider = rng.choice(USUAL_PROVIDERS[channel])
    provider_message_id = f"{provider[:2].upper()}{index:08d}{rng.randrange(16**6):06x}"
    inbound = channel is not Channel.EMAIL and rng.random() < 0.1
    return _Walk(channel, provider, provider_message_id, _walk(rng, channel, inbound), inbound)


def _send(walk: _Walk, index: int, rng: random.Random, moment: datetime) -> Send:
    email = walk.channel is Channel.EMAIL
    return Send(
        channel=walk.channel,
        provider=walk.provider,
        provider_message_id=walk.provider_message_id,
        to=f"user{index}@example.com" if email else f"+1555{index:07d}",
        user_id=f"user-{index}" if rng.random() < 0.7 else None,
        campaign_id=f"campaign-{index % 7}",
        sent_at=moment,
    )


def _reports(
    walk: _Walk, rng: random.Random, moment: datetime
) -> Generator[Observation, None, datetime]:
    """The reports of the walk's steps the provider sends (some silent, a few lost), then
    perhaps a contradicting one after its final status; returns the time the walk ends at.
    A generator, not a list: the caller draws from the same `rng` between reports."""
    reported = walk.path if walk.inbound else walk.path[1:]
    for step, status in enumerate(reported):
        moment += timedelta(seconds=rng.randrange(1, 120))
        silent = status == "sending" or (status == "delivered" and walk.provider == "meta")
        if silent and step < len(reported) - 1:
            continue
        if status not in {"delivered", "read"} and rng.random() < 0.05:
            continue  # a callback lost on the way
        yield walk.report(status, moment, str(step))
    contradiction = _CONTRADICTIONS.get(walk.path[-1])
    if contradiction and lifecycle(walk.channel).is_status(contradiction) and rng.random() < 0.05:
        moment += timedelta(seconds=rng.randrange(1, 600))
        yield walk.report(contradiction, moment, "x")
    return moment


def _engagement(walk: _Walk, rng: random.Random, moment: datetime) -> Iterator[Observation]:
    if walk.channel is not Channel.EMAIL or walk.path[-1] != "delivered":
        return
    kinds = list(_ENGAGEMENT_WEIGHTS)
    for n in range(rng.choice([0, 0, 1, 2, 3])):
        moment += timedelta(minutes=rng.randrange(1, 600))
        kind = rng.choices(kinds, list(_ENGAGEMENT_WEIGHTS.values()))[0]
        yield walk.report(kind, moment, f"e{n}")


def _one_message(rng: random.Random, index: int, start: datetime) -> Iterator[Observation | Send]:
    walk = _draw_walk(rng, index)
    moment = start + timedelta(seconds=rng.randrange(3600))
    if not walk.inbound and rng.random() < 0.8:
        yield _send(walk, index, rng, moment)
    moment = yield from _reports(walk, rng, moment)
    yield from _engagement(walk, rng, moment)


def simulate(
    seed: int = 0,
    messages: int = 300,
    *,
    duplicate_rate: float = 0.1,
    reorder_window: int = 8,
    start: datetime | None = None,
) -> Traffic:
    """A reproducible stream of sends and provider reports for `messages` messages."""
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    stream: list[Observation | Send] = []
    for index in range(messages):
        for item in _one_message(rng, index, start):
            stream.append(item)
            if rng.random() < duplicate_rate:
                stream.append(item)  # the provider retried
    # arrival order: each input may overtake up to `reorder_window` earlier ones
    keyed = sorted(enumerate(stream), key=lambda pair: pair[0] + rng.uniform(0, reorder_window))
    return Traffic(inputs=tuple(item for _, item in keyed), message_count=messages)
