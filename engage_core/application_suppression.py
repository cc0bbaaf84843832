"""The application's suppressions (`engage_core.suppression`): the facts a batch's reports are,
decided in the same transaction as the reports; the query; an operator's lift; and re-deriving
every contact's suppression under a new version of the policy.

A mixin of `EngageApplication`, typed against the few parts of it it uses (`_Host`), so the
application module stays within its size and these commands read as one concern.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder

from engage_core.consent.contacts import ContactKey
from engage_core.consent.policies import PolicySettings
from engage_core.errors import InvalidInput
from engage_core.message.events import MessageEvent, Observed
from engage_core.message.state import MessageState
from engage_core.saving import PendingEvents, save_retrying
from engage_core.suppression.decide import decide_facts, decide_lift, decide_rederive
from engage_core.suppression.events import (
    SuppressionChanged,
    SuppressionEvent,
    SuppressionFactNoted,
    SuppressionLifted,
)
from engage_core.suppression.facts import (
    SuppressionFact,
    may_suppress,
    suppression_fact,
    suppression_id,
)
from engage_core.suppression.policy import Lift, Suppression, SuppressionPolicy
from engage_core.suppression.queries import SuppressionAnswer, suppression_answer
from engage_core.suppression.state import SuppressionRecord, fold

__all__ = ["LiftResult", "RederiveSummary", "SuppressionMethods"]

# a lift's words are kept in the log for ever, and shown: bounded like other operator input
MAX_OPERATOR = 200
MAX_REASON = 1_000
# contacts re-derived per save: a bounded transaction, however long the history
REDERIVE_PAGE = 200


@attrs.frozen
class LiftResult:
    """What a lift did: the suppression it lifted (None: none held, the lift still sets the
    facts before it aside) and the contact's suppression after it."""

    lifted: Suppression | None
    answer: SuppressionAnswer


@attrs.frozen
class RederiveSummary:
    """What a re-derivation did: contacts revisited, and how many answers it changed, by
    what the change was (newly suppressed, no longer suppressed, suppressed for another
    reason or under another policy)."""

    policy: str
    revisited: int = 0
    changed: int = 0
    suppressed: int = 0
    released: int = 0
    restated: int = 0


class _Host(Protocol):
    """The parts of `EngageApplication` the suppression methods use."""

    suppression_policy: SuppressionPolicy
    policy_settings: PolicySettings
    retry_for_seconds: float
    recorder: Any

    @property
    def _clock(self) -> Callable[[], datetime]: ...

    @property
    def _cache(self) -> Any: ...

    def save(self, *objs: PendingEvents) -> Any: ...

    def _events_of(self, aggregate_id: UUID, after: int = 0) -> Iterable[Any]: ...

    def _load(self, ids: Iterable[UUID], fold_with: Callable[..., Any]) -> dict[UUID, Any]: ...


def _text(field: str, value: object, most: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, f"a non-blank text is required (got {value!r})")
    if len(value) > most:
        raise InvalidInput(field, f"at most {most} characters (got {len(value)})")
    if not value.isprintable():
        raise InvalidInput(field, "one line of printable text (no control characters)")
    return value.strip()


class SuppressionMethods:
    """Mixed into `EngageApplication`: suppression commands, queries and the batch step."""

    # The suppression rules and their version (`policy@vN`), as `policy_settings` is set
    # (`engage_core.suppression.settings` reads them from the environment, for the adapters).
    suppression_policy = SuppressionPolicy()

    def suppression(self: _Host, contact: ContactKey) -> SuppressionAnswer:
        """A contact's suppression (None: not suppressed), with its facts, lifts and changes."""
        return suppression_answer(self._events_of, contact)

    def lift_suppression(
        self: _Host, contact: ContactKey, *, reason: str, operator: str,
        at: datetime | None = None,
    ) -> LiftResult:  # fmt: skip
        """An operator lifts a contact's suppression, with a reason: the facts up to now (or
        `at`) no longer count; later ones may suppress it again. Recorded whether or not it
        was suppressed, so the answer depends on the set of facts and lifts, never on the
        order they came in. `InvalidInput` names a blank or overlong reason or operator."""
        lift_reason = _text("reason", reason, MAX_REASON)
        who = _text("operator", operator, MAX_OPERATOR)
        aggregate = suppression_id(contact)
        was: list[Suppression | None] = [None]

        def decided(now: datetime) -> tuple[list[SuppressionEvent], Callable[[], None]]:
            state: SuppressionRecord | None = self._load([aggregate], fold)[aggregate]
            was[0] = state.current if state is not None else None
            lift = Lift(at or now, who, lift_reason)
            events = decide_lift(state, aggregate, contact, lift, self.suppression_policy, now)
            after = fold(events, state)
            return events, lambda: self._cache.remember({aggregate: after})

        save_retrying(self.save, decided, clock=self._clock, within=self.retry_for_seconds)
        return LiftResult(was[0], suppression_answer(self._events_of, contact))

    def rederive_suppressions(
        self: _Host, policy: SuppressionPolicy | None = None
    ) -> RederiveSummary:
        """Derive every contact's suppression again under `policy` (the application's when
        None) over its whole history, and record a corrective change wherever the answer
        differs; running it again records nothing. A page of contacts a save."""
        policy = policy or self.suppression_policy
        summary = RederiveSummary(policy.tag)
        page: list[UUID] = []
        for aggregate in _suppression_ids(self.recorder):
            page.append(aggregate)
            if len(page) == REDERIVE_PAGE:
                summary = _rederive_page(self, page, policy, summary)
                page = []
        return _rederive_page(self, page, policy, summary) if page else summary

    def _decide_suppression(
        self: _Host,
        messages: Sequence[MessageEvent],
        states: Mapping[UUID, MessageState | None],
        now: datetime,
    ) -> tuple[list[SuppressionEvent], dict[UUID, SuppressionRecord]]:
        """The suppression events a batch's reports cause, decided against the contacts'
        states (saved with the reports, in the same transaction)."""
        region = self.policy_settings.default_region
        found: dict[UUID, tuple[ContactKey, list[SuppressionFact]]] = {}
        for event in messages:
            if not isinstance(event, Observed) or not may_suppress(event):
                continue
            state = states.get(event.originator_id)
            made = suppression_fact(event, state.send if state is not None else None, region)
            if made is not None:
                contact, fact = made
                found.setdefault(suppression_id(contact), (contact, []))[1].append(fact)
        if not found:
            return [], {}
        loaded: dict[UUID, SuppressionRecord | None] = self._load(found, fold)
        events: list[SuppressionEvent] = []
        kept: dict[UUID, SuppressionRecord] = {}
        for aggregate, (contact, facts) in found.items():
            known = loaded[aggregate]
            decided = decide_facts(known, aggregate, contact, facts, self.suppression_policy, now)
            events += decided
            after = fold(decided, known)
            if after is not None:
                kept[aggregate] = after
        return events, kept


_TOPICS = [SuppressionFactNoted.TOPIC, SuppressionLifted.TOPIC]


def _suppression_ids(recorder: Any) -> Iterator[UUID]:
    """Every contact with a suppression aggregate, once each, in the order first seen in the
    log (none without an application log)."""
    if not isinstance(recorder, ApplicationRecorder):
        return
    seen: set[UUID] = set()
    start: int | None = None
    while True:
        notes = recorder.select_notifications(
            start, REDERIVE_PAGE, topics=_TOPICS, inclusive_of_start=False
        )
        for note in notes:
            found = note.originator_id
            aggregate = found if isinstance(found, UUID) else UUID(str(found))
            if aggregate not in seen:
                seen.add(aggregate)
                yield aggregate
        if len(notes) < REDERIVE_PAGE:
            return
        start = notes[-1].id


def _rederive_page(
    app: _Host, page: Sequence[UUID], policy: SuppressionPolicy, summary: RederiveSummary
) -> RederiveSummary:
    """Re-derive one page of contacts in one save; the summary with them counted."""

    def decided(now: datetime) -> tuple[list[SuppressionEvent], Callable[[], None]]:
        states: dict[UUID, SuppressionRecord | None] = app._load(page, fold)
        events: list[SuppressionEvent] = []
        after: dict[UUID, SuppressionRecord | None] = {}
        for aggregate, state in states.items():
            if state is not None:
                made = decide_rederive(state, policy, now)
                events += made
                after[aggregate] = fold(made, state)
        return events, lambda: app._cache.remember(after)

    saved = save_retrying(app.save, decided, clock=app._clock, within=app.retry_for_seconds)
    changes = [event for event in saved if isinstance(event, SuppressionChanged)]
    return attrs.evolve(
        summary,
        revisited=summary.revisited + len(page),
        changed=summary.changed + len(changes),
        suppressed=summary.suppressed + sum(c.before is None for c in changes),
        released=summary.released + sum(c.after is None for c in changes),
        restated=summary.restated + sum(None not in (c.before, c.after) for c in changes),
    )
