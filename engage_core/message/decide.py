"""Decide what an input does to a message: pure functions from (state, input) to one event.

The rule (DOMAIN.md §2): a status reachable from the current one advances; an earlier one is
late; incomparable ones resolve by precedence and the conflict is recorded; engagement is always
recorded and implies `delivered`; an input sharing a dedup key with an earlier one is a
duplicate. Because precedence is a total order extending reachability, the status after any
sequence is the highest-precedence status reported, whatever the arrival order.

Skipped steps are inferred from what a report proves (`Lifecycle.implied`: the statuses every
way to it passes), not from the way from the current status, so the statuses a message is known
to have passed are also the same whatever the arrival order.
"""

from __future__ import annotations

from datetime import datetime

from engage_core.clock import DEFAULT_CLOCK_SKEW, ClockSkewPolicy
from engage_core.lifecycles import Lifecycle, Relation, lifecycle
from engage_core.message.events import (
    DuplicateIgnored,
    MessageEvent,
    Outcome,
    SendRecorded,
    facts_from_details,
)
from engage_core.message.state import MessageView
from engage_core.message.trusted import observed
from engage_core.observations import NO_FACTS, Observation, ProviderFacts, Send

_OUTCOMES = {
    Relation.ADVANCE: Outcome.APPLIED,
    Relation.LATE: Outcome.LATE,
    Relation.CONFLICT: Outcome.CONFLICT,
}


def _version(state: MessageView | None) -> int:
    return 1 if state is None else state.version + 1


def _status_after(rules: Lifecycle, current: str | None, target: str) -> tuple[Relation, str]:
    """How a report of `target` relates to `current`, and the status that then stands."""
    relation = rules.relation(current, target)
    if relation is Relation.ADVANCE:
        return relation, target
    assert current is not None  # ADVANCE is the only answer when there is no status yet
    if relation is Relation.LATE:
        return relation, current
    return relation, rules.winner(current, target)


def _newly_proved(state: MessageView | None, proved: tuple[str, ...]) -> tuple[str, ...]:
    if state is None:
        return proved
    known = state.known
    if known.issuperset(proved):  # the usual case once a message is under way
        return ()
    return tuple([status for status in proved if status not in known])


def _duplicate(
    state: MessageView, item: Observation | Send, status: str, recorded_at: datetime
) -> DuplicateIgnored:
    return DuplicateIgnored(
        originator_id=state.id,
        originator_version=_version(state),
        recorded_at=recorded_at,
        channel=item.channel,
        provider=item.provider,
        provider_message_id=item.provider_message_id,
        status=status,
        occurred_at=item.occurred_at if isinstance(item, Observation) else item.sent_at,
        dedup_keys=item.dedup_keys,
    )


def _seen_before(state: MessageView | None, item: Observation | Send) -> bool:
    return state is not None and not state.seen.isdisjoint(item.dedup_keys)


def _first_report_of_our_send(
    rules: Lifecycle, state: MessageView | None, status: str, relation: Relation
) -> bool:
    """Whether this is the provider's first report of the initial status (`processed`) of a
    message whose status stands on our own send record alone. The record is ours, not the
    provider's: its report adds the provider's time and is applied, not late. (A second report
    of it, or one after a later status, is late as ever.)"""
    return (
        relation is Relation.LATE
        and state is not None
        and status == rules.initial == state.status
        and status not in state.reported
    )


def _facts(observation: Observation) -> ProviderFacts:
    """The report's facts as its adapter typed them; for an observation that carries none (a
    line written before typed facts), as its details named them then."""
    if observation.facts is not None:
        return observation.facts
    if not observation.details:  # nothing to read: what reading it would give, without the work
        return NO_FACTS
    return facts_from_details(observation.channel, observation.status, observation.details)


def decide_observation(
    state: MessageView | None,
    observation: Observation,
    *,
    recorded_at: datetime,
    clock_skew: ClockSkewPolicy = DEFAULT_CLOCK_SKEW,
) -> MessageEvent:
    """The one event recording `observation` against a message in `state`; a time the report
    claims beyond `clock_skew` is recorded as `recorded_at` (the claim kept as `claimed_at`)."""
    if _seen_before(state, observation):
        assert state is not None
        return _duplicate(state, observation, observation.status, recorded_at)
    rules = lifecycle(observation.channel)
    current = state.status if state is not None else None
    if rules.is_engagement(observation.status):
        implied = rules.engagement_implies
        assert implied is not None
        relation, status_after = _status_after(rules, current, implied)
        proved = (*rules.implied[implied], implied)
        # engagement is new information even when the status it implies is not
        outcome = Outcome.CONFLICT if relation is Relation.CONFLICT else Outcome.APPLIED
    else:
        relation, status_after = _status_after(rules, current, observation.status)
        proved = rules.implied[observation.status]
        outcome = _OUTCOMES[relation]
        if _first_report_of_our_send(rules, state, observation.status, relation):
            outcome = Outcome.APPLIED
    occurred = clock_skew.occurred(observation.occurred_at, recorded_at)
    claimed = observation.occurred_at
    return observed(
        observation.message_id,
        _version(state),
        recorded_at,
        observation.channel,
        observation.provider,
        observation.provider_message_id,
        observation.status,
        occurred,
        observation.event_id,
        observation.dedup_keys,
        observation.details,
        outcome,
        _newly_proved(state, proved),
        status_after,
        claimed if occurred != claimed else None,
        _facts(observation),
    )


def decide_send(state: MessageView | None, send: Send, *, recorded_at: datetime) -> MessageEvent:
    """The one event recording the sender's own record of a message (its `processed` step)."""
    rules = lifecycle(send.channel)
    if _seen_before(state, send):
        assert state is not None
        return _duplicate(state, send, rules.initial, recorded_at)
    current = state.status if state is not None else None
    relation, status_after = _status_after(rules, current, rules.initial)
    return SendRecorded(
        originator_id=send.message_id,
        originator_version=_version(state),
        recorded_at=recorded_at,
        channel=send.channel,
        provider=send.provider,
        provider_message_id=send.provider_message_id,
        send=send,
        dedup_keys=send.dedup_keys,
        outcome=_OUTCOMES[relation],
        status_after=status_after,
    )
