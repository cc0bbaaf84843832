"""Decide what an input does to a message: pure functions from (state, input) to one event.

The rule (DOMAIN.md §2): a status reachable from the current one advances (skipped steps are
inferred); an earlier one is late; incomparable ones resolve by precedence and the conflict is
recorded; engagement is always recorded and implies `delivered`; a dedup key seen before is a
duplicate. Because precedence is a total order extending reachability, the status after any
sequence is the highest-precedence status reported, whatever the arrival order.
"""

from __future__ import annotations

from datetime import datetime

from engage_core.lifecycles import Lifecycle, Relation, lifecycle
from engage_core.message.events import (
    DuplicateIgnored,
    MessageEvent,
    Observed,
    Outcome,
    SendRecorded,
)
from engage_core.message.state import MessageState
from engage_core.observations import Observation, Send

_OUTCOMES = {
    Relation.ADVANCE: Outcome.APPLIED,
    Relation.LATE: Outcome.LATE,
    Relation.CONFLICT: Outcome.CONFLICT,
}


def _version(state: MessageState | None) -> int:
    return 1 if state is None else state.version + 1


def _status_effect(
    rules: Lifecycle, current: str | None, target: str
) -> tuple[Relation, str, tuple[str, ...]]:
    """How a report of `target` moves a message at `current`: relation, status after, inferred."""
    relation = rules.relation(current, target)
    if relation is Relation.ADVANCE:
        return relation, target, rules.inferred_between(current, target)
    assert current is not None  # ADVANCE is the only answer when there is no status yet
    if relation is Relation.LATE:
        return relation, current, ()
    return relation, rules.winner(current, target), ()


def _duplicate(
    state: MessageState, item: Observation | Send, status: str, recorded_at: datetime
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
        dedup_key=item.dedup_key,
    )


def decide_observation(
    state: MessageState | None, observation: Observation, *, recorded_at: datetime
) -> MessageEvent:
    """The one event recording `observation` against a message in `state`."""
    if state is not None and observation.dedup_key in state.seen:
        return _duplicate(state, observation, observation.status, recorded_at)
    rules = lifecycle(observation.channel)
    current = state.status if state is not None else None
    if rules.is_engagement(observation.status):
        implied = rules.engagement_implies
        assert implied is not None
        relation, status_after, inferred = _status_effect(rules, current, implied)
        if relation is Relation.ADVANCE:
            inferred = (*inferred, implied)
        # engagement is new information even when the status it implies is not
        outcome = Outcome.CONFLICT if relation is Relation.CONFLICT else Outcome.APPLIED
    else:
        relation, status_after, inferred = _status_effect(rules, current, observation.status)
        outcome = _OUTCOMES[relation]
    return Observed(
        originator_id=observation.message_id,
        originator_version=_version(state),
        recorded_at=recorded_at,
        channel=observation.channel,
        provider=observation.provider,
        provider_message_id=observation.provider_message_id,
        status=observation.status,
        occurred_at=observation.occurred_at,
        event_id=observation.event_id,
        dedup_key=observation.dedup_key,
        details=observation.details,
        outcome=outcome,
        inferred=inferred,
        status_after=status_after,
    )


def decide_send(state: MessageState | None, send: Send, *, recorded_at: datetime) -> MessageEvent:
    """The one event recording the sender's own record of a message (its `processed` step)."""
    rules = lifecycle(send.channel)
    if state is not None and send.dedup_key in state.seen:
        return _duplicate(state, send, rules.initial, recorded_at)
    current = state.status if state is not None else None
    relation, status_after, _ = _status_effect(rules, current, rules.initial)
    return SendRecorded(
        originator_id=send.message_id,
        originator_version=_version(state),
        recorded_at=recorded_at,
        channel=send.channel,
        provider=send.provider,
        provider_message_id=send.provider_message_id,
        send=send,
        dedup_key=send.dedup_key,
        outcome=_OUTCOMES[relation],
        status_after=status_after,
    )
