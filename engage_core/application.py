"""The Engage application service: commands and queries over event-sourced aggregates.

An eventsourcing `Application` whose persistence (SQLite file, PostgreSQL, in memory) is chosen
by the `env` it is given; the core itself opens no files and reads no settings of its own.
(eventsourcing's `Application` does read `os.environ` beneath the `env` it is given, so its own
settings, such as `COMPRESSOR_TOPIC` or `CIPHER_KEY`, can be set there; `env` wins.)

Every command has one shape: a `Command` (message inputs, consent changes, a quarantine
decision) is loaded → decided (pure functions of `message`, `consent`, `suppression` and
`quarantine`) → saved in ONE `save()`, so it lands whole or not at all, at batched-insert
speed; a conflict with another writer decides it again. Queries fold the aggregates they read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs
from eventsourcing.application import Application
from eventsourcing.persistence import EventStore
from eventsourcing.utils import get_topic

from engage_core.application_links import LinkMethods
from engage_core.application_proof import ProofMethods
from engage_core.application_suppression import SuppressionMethods
from engage_core.cache import StateCache
from engage_core.channels import USUAL_PROVIDERS, Channel
from engage_core.clock import DEFAULT_CLOCK_SKEW
from engage_core.collector import bulk_allocation
from engage_core.consent import queries
from engage_core.consent.batch import decide_consent_batch, listed_group_reads, reads
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.confirmation import ConsentSettings, confirming
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ANSWERS, ConsentEvent
from engage_core.consent.evolve import fold as fold_consent
from engage_core.consent.policies import PolicySettings, policy_changes
from engage_core.consent.queries import SubscriptionAnswer
from engage_core.consent.rules import SendPermission, SubscriptionState, Update
from engage_core.consent.state import ChannelSubscription
from engage_core.event_store import LeanEventStore
from engage_core.events import DomainEvent
from engage_core.ids import message_id
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.draft import Draft, fold_drafted
from engage_core.message.events import MessageEvent, Observed
from engage_core.message.history import history
from engage_core.message.result import ObserveResult
from engage_core.message.state import Message, MessageState, MessageView
from engage_core.observations import Observation, Send
from engage_core.ports import ReadsManyAggregates
from engage_core.quarantine import HeldEntry, Hold, QuarantineEvent, decide_hold, decide_retry
from engage_core.quarantine import fold_held as fold_quarantine
from engage_core.quarantine.listing import held_ids
from engage_core.saving import ConcurrentWriteError, save_retrying
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder

__all__ = ["Command", "ConcurrentWriteError", "Decision", "EngageApplication"]

Inputs = Sequence[Observation | Send]
# Commands this big run with fewer young collections (`engage_core.collector`); a single input
# allocates too little for it to matter.
_BULK = 100


@attrs.frozen
class Command:
    """What one save() records: message inputs in order, consent changes (the ones the inputs'
    reports cause are added), and a quarantine decision made at save time (`quarantine(now)`,
    re-made on every retry)."""

    inputs: Inputs = ()
    changes: Sequence[ConsentChange] = ()
    quarantine: Callable[[datetime], QuarantineEvent] | None = None


@attrs.frozen
class Decision:
    """The events a command records, and every state they leave (remembered once saved)."""

    events: list[DomainEvent]
    states: dict[UUID, Any]


# The statuses a consent policy can act on (`consent.policies`: an email unsubscribe, spam report
# or group change; an inbound SMS or WhatsApp message): asked about any other report, the
# policies answer nothing, after parsing the address an email report names. A property
# (tests/core/test_perf_policy_statuses.py) holds them answering nothing outside these.
_EMAIL = Channel.EMAIL
_EMAIL_POLICY_STATUSES = frozenset({"unsubscribe", "spamreport", "group_unsubscribe",
                                    "group_resubscribe"})  # fmt: skip
_INBOUND_STATUSES = frozenset({"receiving", "received"})


def may_change_consent(event: Observed) -> bool:
    """Whether a consent policy can act on this report (else it causes no change)."""
    if event.channel is _EMAIL:
        return event.status in _EMAIL_POLICY_STATUSES
    return event.status in _INBOUND_STATUSES


def _bulk(command: Command) -> AbstractContextManager[None]:
    """A big command runs with fewer young collections (`engage_core.collector`)."""
    big = len(command.inputs) + len(command.changes) >= _BULK
    return bulk_allocation() if big else nullcontext()


def _send_of(states: Mapping[UUID, MessageState | None], message: UUID) -> Send | None:
    state = states.get(message)
    return state.send if state is not None else None


class EngageApplication(LinkMethods, ProofMethods, SuppressionMethods, Application[UUID]):
    """Record sends, observe provider reports, keep consent, hold what could not be applied;
    answer what happened to a message and what holds for a contact."""

    name = "Engage"
    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(CattrsMapper),
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
    }
    # Optimistic-concurrency conflicts (another writer appended to one of the command's
    # aggregates between our read and our save) are retried, with jittered backoff, this long.
    retry_for_seconds = 60.0
    # Aggregate states remembered between commands (see `engage_core.cache`).
    state_cache_size = 10_000
    # How message facts change consent (spam reports unsubscribe, the default phone region).
    policy_settings = PolicySettings()
    # How far ahead of ours a source's clock may be (engage_core/clock.py).
    clock_skew = DEFAULT_CLOCK_SKEW
    consent_settings = ConsentSettings()  # which channels need double opt-in

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

    def construct_event_store(self) -> EventStore[UUID]:
        """eventsourcing's event store, making its recordings at a third of the cost."""
        return LeanEventStore(mapper=self.mapper, recorder=self.recorder)

    # Commands

    def record_send(self, send: Send) -> Message:
        """Record the sender's own record of a message; merges with reports already seen."""
        self._execute(Command(inputs=[send]))
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
        held = (lambda now: self._decide_hold(hold, now)) if hold is not None else None
        command = Command(inputs=list(observations), quarantine=held)
        return self._counted(command, count_sends=count_sends)

    def change_consent(self, changes: Iterable[ConsentChange]) -> list[ConsentEvent]:
        """Apply channel and group changes, in order, saved in one save(); returns one event
        per change, saying what it did (outcome, error code, state before and after)."""
        saved = self._execute(Command(changes=list(changes)))
        return [e for e in saved if isinstance(e, ANSWERS)]

    def set_channel_subscriptions(
        self, changes: Iterable[tuple[ContactKey, Update]]
    ) -> list[ConsentEvent]:
        """Apply updates to channel subscriptions, in order, saved in one save()."""
        return self.change_consent([ChannelChange(c, u) for c, u in changes])

    def set_group_subscriptions(
        self, changes: Iterable[tuple[ContactKey, str, Update]]
    ) -> list[ConsentEvent]:
        """Apply updates to group subscriptions (email address, group name, update), in order,
        saved in one save(); an operator's change needs the address's channel SUBSCRIBED."""
        return self.change_consent([GroupChange(e, g, update=u) for e, g, u in changes])

    def hold(self, hold: Hold) -> HeldEntry:
        """Keep a request none of which was applied (refused, or nothing in it mapped)."""
        self._execute(Command(quarantine=lambda now: self._decide_hold(hold, now)))
        entry = self.held_entry(hold.request.quarantine_id)
        assert entry is not None
        return entry

    def retry_held(
        self,
        entry_id: UUID,
        inputs: Inputs,
        outcome: Hold,
        *,
        verified: bool,
        count_sends: bool = True,
    ) -> ObserveResult:
        """Apply what a held request maps to now, and record the retry (released when no
        problem is left), in one save(), so a held entry never says "released" about inputs
        that did not land (or the other way round); counts as `observe` does."""

        def retried(now: datetime) -> QuarantineEvent:
            entry = self.held_entry(entry_id)
            if entry is None:
                raise LookupError(f"no held request {entry_id}")
            return decide_retry(entry, outcome, verified=verified, recorded_at=now)

        return self._counted(Command(inputs=inputs, quarantine=retried), count_sends=count_sends)

    # Queries

    def message(self, message_id: UUID) -> Message | None:
        """A message's state and history, or None when nothing is known about it."""
        events = list(self._events_of(message_id))
        state = fold_drafted(events)
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

    def subscription(
        self, contact: ContactKey, *, groups: Iterable[str] | None = None,
        as_of: datetime | None = None,
    ) -> SubscriptionAnswer:  # fmt: skip
        """What holds for a contact vector, now or as of a time (`consent.queries`); a PENDING
        past its confirmation window reads as no state (`consent.confirmation.lapsed`)."""
        answer = queries.subscription(self._events_of, contact, groups=groups, as_of=as_of)
        return answer.lapsed(as_of or self._clock(), self.consent_settings)

    def can_send(
        self, contact: ContactKey, *, group: str | None = None, transactional: bool = False
    ) -> SendPermission:
        """Whether a message may go to a contact vector now (DOMAIN.md §3)."""
        return queries.may_send(self._events_of, contact, group=group, transactional=transactional)

    def channel_subscription(self, contact: ContactKey) -> ChannelSubscription | None:
        """A contact vector's channel subscription (all its updates; status by replay)."""
        return queries.channel_subscription(self._events_of, contact)

    def group_subscription(
        self, email: ContactKey, group: str, *, as_of: datetime | None = None
    ) -> SubscriptionState:
        """An address's state in a group (judged against its channel), now or as of a time."""
        return queries.group_subscription(self._events_of, email, group, as_of=as_of)

    def groups_of(self, email: ContactKey) -> tuple[str, ...]:
        """The groups an address has ever had an update for, in the order first seen."""
        return queries.groups_of(self._events_of, email)

    def held_entry(self, entry_id: UUID) -> HeldEntry | None:
        """One held request, or None."""
        return fold_quarantine(self._events_of(entry_id))

    def held(self, *, include_released: bool = False) -> Iterator[HeldEntry]:
        """Held requests, oldest first (released ones too when asked)."""
        for entry_id in held_ids(self.recorder):
            entry = self.held_entry(entry_id)
            if entry is not None and (include_released or not entry.released):
                yield entry

    # Internals: load → decide → save

    def _execute(self, command: Command) -> list[Any]:
        """Decide `command` against current states and save it in one save(), deciding again
        on a conflict; remember the states once saved."""
        with _bulk(command):
            return self._save(command)

    def _counted(self, command: Command, *, count_sends: bool) -> ObserveResult:
        """`_execute`, answering with the counts of its inputs. The saved events are counted
        and dropped before a bulk command's collector threshold is restored: the young
        collection that restoring it sets off then walks what outlives the batch (its states),
        not every event, stored row and recording it made."""
        with _bulk(command):
            return ObserveResult.of_inputs(
                command.inputs, self._save(command), count_sends=count_sends
            )

    def _save(self, command: Command) -> list[Any]:
        if not command.inputs and not command.changes and command.quarantine is None:
            return []

        def decided(now: datetime) -> tuple[list[DomainEvent], Callable[[], None]]:
            decision = self._decide(command, now)
            return decision.events, lambda: self._cache.remember(decision.states)

        return save_retrying(self.save, decided, clock=self._clock, within=self.retry_for_seconds)

    def _decide(self, command: Command, now: datetime) -> Decision:
        """Load what `command` needs and decide it (pure decisions; no writes)."""
        messages, states = self._decide_messages(command.inputs, now)
        requested = confirming(command.changes, self.consent_settings)
        changes = [*requested, *self._caused_changes(messages, states)]
        consent = decide_consent_batch(
            self._load_consent(changes), changes, now, clock_skew=self.clock_skew
        ) if changes else None  # fmt: skip
        suppressed, suppressions = self._decide_suppression(messages, states, now)
        events: list[DomainEvent] = [*messages, *(consent.events if consent else ()), *suppressed]
        if command.quarantine is not None:
            events.append(command.quarantine(now))
        return Decision(events, {**states, **(consent.states if consent else {}), **suppressions})

    def _decide_messages(
        self, inputs: Inputs, now: datetime
    ) -> tuple[list[MessageEvent], dict[UUID, MessageState | None]]:
        states: dict[UUID, MessageState | None] = self._load(
            (item.message_id for item in inputs), fold_drafted
        )
        # each message is folded on a draft through the batch and frozen once (`draft`)
        drafts: dict[UUID, Draft] = {}
        decided: list[MessageEvent] = []
        skew = self.clock_skew
        for item in inputs:
            key = item.message_id
            draft = drafts.get(key)
            state: MessageView | None = draft if draft is not None else states[key]
            if isinstance(item, Send):
                event = decide_send(state, item, recorded_at=now)
            else:
                event = decide_observation(state, item, recorded_at=now, clock_skew=skew)
            if draft is None:
                drafts[key] = draft = Draft.start(states[key], event)
            draft.apply(event)
            decided.append(event)
        for key, draft in drafts.items():
            states[key] = draft.freeze()
        return decided, states

    def _caused_changes(
        self, events: Iterable[MessageEvent], states: Mapping[UUID, MessageState | None]
    ) -> list[ConsentChange]:
        """The consent changes the reports cause, saved in the same transaction (policies)."""
        return [
            change
            for event in events
            if isinstance(event, Observed) and may_change_consent(event)
            for change in policy_changes(
                event, _send_of(states, event.originator_id), self.policy_settings
            )
        ]

    def _load_consent(self, changes: Sequence[ConsentChange]) -> dict[UUID, Any]:
        """The consent states a batch is decided against: the aggregates it names, then the
        groups its addresses' directories list (a channel change may re-judge them)."""
        states = self._load(reads(changes), fold_consent)
        more = listed_group_reads(changes, states) - states.keys()
        return {**states, **self._load(more, fold_consent)} if more else states

    def _load(self, ids: Iterable[UUID], fold_with: Callable[..., Any]) -> dict[UUID, Any]:
        """The current state of each aggregate: the cached one fast-forwarded by any events
        written since, read in one query where the store can."""
        states: dict[UUID, Any] = self._cache.get(dict.fromkeys(ids))
        newer = self._events_after({key: s.version if s else 0 for key, s in states.items()})
        for key, events in newer.items():  # the others are as cached (or None: not stored)
            states[key] = fold_with(events, states[key])
        return states

    def _decide_hold(self, hold: Hold, now: datetime) -> QuarantineEvent:
        return decide_hold(self.held_entry(hold.request.quarantine_id), hold, recorded_at=now)

    def _events_of(self, aggregate_id: UUID, after: int = 0) -> Iterable[Any]:
        return self.events.get(aggregate_id, gt=after or None)

    def _events_after(self, since: Mapping[UUID, int]) -> dict[UUID, list[Any]]:
        """The events of each aggregate after the version given for it (0: all), read in one
        query where the store can (`ReadsManyAggregates`), else one query each; aggregates
        with none are left out (most of a batch's messages are new)."""
        if self._many_reader is None:
            read = {key: list(self._events_of(key, after)) for key, after in since.items()}
            return {key: events for key, events in read.items() if events}
        stored = self._many_reader.select_events_of_many(since)
        to_event = self.mapper.to_domain_event
        return {key: [to_event(s) for s in found] for key, found in stored.items() if found}
