"""The Engage application service: commands and queries over event-sourced messages.

An eventsourcing `Application` whose persistence (SQLite file, PostgreSQL, in memory) is chosen
by the `env` it is given; the core itself opens no files and reads no settings of its own.
(eventsourcing's `Application` does read `os.environ` beneath the `env` it is given, so its own
settings, such as `COMPRESSOR_TOPIC` or `CIPHER_KEY`, can be set there; `env` wins.)
Each input batch is decided against the current states and saved in ONE `save()`, so a batch
lands whole or not at all, at batched-insert speed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable
from uuid import UUID

import attrs
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import get_topic

from engage_core.channels import USUAL_PROVIDERS, Channel
from engage_core.clock import DEFAULT_CLOCK_SKEW
from engage_core.consent.commands import ConsentCommands, Decided
from engage_core.consent.policies import PolicySettings, policy_changes
from engage_core.events import DomainEvent
from engage_core.ids import message_id
from engage_core.message.cache import StateCache
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.events import (
    MessageEvent,
    Observed,
)
from engage_core.message.evolve import evolve, fold
from engage_core.message.history import history
from engage_core.message.result import ObserveResult
from engage_core.message.state import Message, MessageState
from engage_core.observations import Observation, Send
from engage_core.quarantine import Hold, QuarantineEvent
from engage_core.quarantine_commands import QuarantineCommands
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder


@runtime_checkable
class ReadsManyAggregates(Protocol):
    """An optional recorder capability: the events of many aggregates in one query.

    `since` maps each wanted aggregate to the version already known (0 for none); only later
    events come back. `adapters.stores` installs recorders that have it; without it, each
    aggregate of a batch is read with its own query.
    """

    def select_events_of_many(
        self, since: Mapping[UUID, int]
    ) -> Mapping[UUID, Sequence[StoredEvent]]: ...


StoredDomainEvent = DomainEvent


@attrs.frozen
class _PendingEvents:
    """A batch of new events handed to `Application.save()` as one object.

    `save()` checks every object it is given against runtime-checkable Protocols, which costs
    ~15 µs per object on Python 3.11; handing it one object that collects all the events keeps
    that cost per batch instead of per event.
    """

    id: UUID
    events: Sequence[StoredDomainEvent]
    version: int = 0  # the aggregate protocol asks for one; a batch spans many aggregates

    def collect_events(self) -> Sequence[StoredDomainEvent]:
        return self.events


_Event = TypeVar("_Event", bound=StoredDomainEvent)


def _send_of(states: Mapping[UUID, MessageState | None], message: UUID) -> Send | None:
    state = states.get(message)
    return state.send if state is not None else None


class ConcurrentWriteError(RuntimeError):
    """Other writers kept changing the same messages through every retry."""


class EngageApplication(QuarantineCommands, ConsentCommands, Application[UUID]):
    """Record sends, observe provider reports, answer what happened to a message."""

    name = "Engage"
    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(CattrsMapper),
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
    }
    # Optimistic-concurrency conflicts (another writer appended to one of the batch's messages
    # between our read and our save) are retried, with jittered backoff, for this long.
    retry_for_seconds = 60.0
    # Message states remembered between batches (see `engage_core.message.cache`).
    state_cache_size = 10_000
    # How message facts change consent (spam reports unsubscribe, the default phone region).
    policy_settings = PolicySettings()
    # How far ahead of ours a source's clock may be (engage_core/clock.py).
    clock_skew = DEFAULT_CLOCK_SKEW

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(env=env)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cache = StateCache(self.state_cache_size)
        self._many_reader = (
            self.recorder if isinstance(self.recorder, ReadsManyAggregates) else None
        )

    # Commands

    def record_send(self, send: Send) -> Message:
        """Record the sender's own record of a message; merges with reports already seen."""
        self._decide_and_save([send])
        message = self.message(send.message_id)
        assert message is not None
        return message

    def observe(
        self,
        observations: Iterable[Observation | Send],
        *,
        hold: Hold | None = None,
        count_sends: bool = True,
    ) -> ObserveResult:
        """Apply a batch of inputs, in order, and save every touched message, and the consent
        changes the reports cause, in one save(); with `hold`, the request they came from is
        kept in quarantine in the same transaction (some of it could not be mapped).

        The result counts every input; with `count_sends=False`, reports only (a provider
        event carrying the sender's fields maps to a report and a send record, and the
        provider's batch should count as one event each)."""
        inputs = list(observations)
        also = (lambda now: [self._decide_hold(hold, now)]) if hold is not None else None
        events = self._decide_and_save(inputs, also=also)
        return ObserveResult.of_inputs(inputs, events, count_sends=count_sends)

    # Queries

    def message(self, message_id: UUID) -> Message | None:
        """A message's state and history, or None when nothing is known about it."""
        events = list(self._events_of(message_id))
        state = fold(events)
        return None if state is None else Message(state=state, history=history(events))

    def find_message(
        self, channel: Channel, provider_message_id: str, provider: str | None = None
    ) -> Message | None:
        """Find a message by the provider's id; without a provider, the channel's usual ones."""
        providers = (provider,) if provider else USUAL_PROVIDERS[channel]
        for name in providers:
            state = self.message(message_id(channel, name, provider_message_id))
            if state is not None:
                return state
        return None

    # Internals

    def _events_of(self, aggregate_id: UUID, after: int = 0) -> Iterable[MessageEvent]:
        events: Iterable[Any] = self.events.get(aggregate_id, gt=after or None)
        return events

    def _load(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, MessageState | None]:
        """The current state of each message: the cached one fast-forwarded by any events
        written since, read in one query where the store can."""
        cached = self._cache.get(dict.fromkeys(aggregate_ids))
        newer = self._events_after({key: s.version if s else 0 for key, s in cached.items()})
        return {key: fold(newer[key], cached[key]) for key in cached}

    def _decide(
        self, inputs: Sequence[Observation | Send], recorded_at: datetime
    ) -> tuple[list[MessageEvent], dict[UUID, MessageState | None]]:
        states = self._load(item.message_id for item in inputs)
        decided: list[MessageEvent] = []
        for item in inputs:
            aggregate_id = item.message_id
            state = states[aggregate_id]
            if isinstance(item, Send):
                event = decide_send(state, item, recorded_at=recorded_at)
            else:
                event = decide_observation(
                    state, item, recorded_at=recorded_at, clock_skew=self.clock_skew
                )
            states[aggregate_id] = evolve(state, event)
            decided.append(event)
        return decided, states

    def _decide_and_save(
        self,
        inputs: Sequence[Observation | Send],
        *,
        also: Callable[[datetime], list[QuarantineEvent]] | None = None,
    ) -> list[StoredDomainEvent]:
        """Decide `inputs` (and the consent changes they cause, and `also`'s events, decided
        afresh on every retry) and save them all in one save()."""
        if not inputs and also is None:
            return []

        def decide(now: datetime) -> tuple[list[StoredDomainEvent], Callable[[], None]]:
            events, states = self._decide(inputs, now)
            # consent changes the reports cause, saved in the same transaction (policies.py)
            changes = [
                change
                for event in events
                if isinstance(event, Observed)
                for change in policy_changes(
                    event, _send_of(states, event.originator_id), self.policy_settings
                )
            ]
            consent = self._decide_consent(changes, now) if changes else []
            extra = also(now) if also is not None else []
            return [*events, *consent, *extra], lambda: self._cache.remember(states)

        return self._save_retrying(decide)

    def _save_retrying(
        self, decide: Callable[[datetime], tuple[list[_Event], Callable[[], None]]]
    ) -> list[_Event]:
        """Decide against current states and save in one `save()`; on an optimistic-concurrency
        conflict (another writer appended to one of these aggregates between our read and our
        save) reload and decide again (decisions are pure, so a retry is always safe), with
        "full jitter" backoff so two writers of the same aggregates don't collide in lockstep.
        `decide` returns the events and what to do once they are saved."""
        deadline = time.monotonic() + self.retry_for_seconds
        attempt = 0
        while True:
            events, on_saved = decide(self._clock())
            if not events:
                return events
            try:
                self.save(_PendingEvents(id=events[0].originator_id, events=events))
            except IntegrityError:
                attempt += 1
                if time.monotonic() >= deadline:
                    raise ConcurrentWriteError(
                        f"gave up after {attempt} attempts in {self.retry_for_seconds:.0f} s: "
                        "other writers kept changing the same aggregates"
                    ) from None
                time.sleep(random.uniform(0, min(0.5, 0.002 * 2**attempt)))
                continue
            on_saved()
            return events

    def _events_of_many(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, list[Any]]:
        """Every event of each aggregate, read in one query where the store can."""
        return self._events_after(dict.fromkeys(aggregate_ids, 0))

    def _events_after(self, since: Mapping[UUID, int]) -> dict[UUID, list[Any]]:
        """The events of each aggregate after the version given for it (0: all), read in one
        query where the store can (`ReadsManyAggregates`), else one query each."""
        if self._many_reader is None:
            return {key: list(self._events_of(key, after)) for key, after in since.items()}
        stored = self._many_reader.select_events_of_many(since)
        to_event = self.mapper.to_domain_event
        return {key: [to_event(s) for s in stored.get(key, ())] for key in since}

    def _save_consent(
        self, decide: Callable[[datetime], tuple[Decided, Callable[[], None]]]
    ) -> Decided:
        return self._save_retrying(decide)
