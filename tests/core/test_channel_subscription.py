"""The channel subscription aggregate: any arrival order ends in the same state and history
set; duplicates collapse; stored events load back equal; a late STOP still locks."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from engage_core.consent.contacts import ContactKey
from engage_core.consent.decide import decide_channel_update
from engage_core.consent.events import ChannelUpdateDuplicated, ChannelUpdateRecorded, ConsentEvent
from engage_core.consent.evolve import evolve_channel, fold_channel
from engage_core.consent.rules import (
    ConsentOutcome,
    ErrorCode,
    SubscriptionStatus,
    Update,
    arrival,
    channel_state,
)
from engage_core.consent.state import ChannelSubscription
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder
from tests.conftest import FIXED_TIME
from tests.core.test_consent_rules import start, stop, update, updates

CONTACT = ContactKey.parse("SMS", "(213) 561-8345")
MAPPER = CattrsMapper(transcoder=OrjsonTranscoder())


def run(arrivals: Sequence[Update]) -> tuple[ChannelSubscription, list[ConsentEvent]]:
    state: ChannelSubscription | None = None
    events: list[ConsentEvent] = []
    for item in arrivals:
        event = decide_channel_update(state, CONTACT, item, recorded_at=FIXED_TIME)
        state = evolve_channel(state, event)
        events.append(event)
    assert state is not None
    return state, events


def test_a_late_stop_locks_and_says_what_it_changed() -> None:
    operator = update(SubscriptionStatus.SUBSCRIBED, 5)
    state, events = run([operator, stop(1), update(SubscriptionStatus.SUBSCRIBED, 7)])
    late_stop, refused = events[1], events[2]
    assert isinstance(late_stop, ChannelUpdateRecorded)
    assert late_stop.outcome is ConsentOutcome.STALE  # older than what stood when it came
    assert late_stop.before.status is SubscriptionStatus.SUBSCRIBED
    assert late_stop.after.status is SubscriptionStatus.UNSUBSCRIBED  # yet its replay locks
    assert isinstance(refused, ChannelUpdateRecorded)
    refusal = (ConsentOutcome.REFUSED, ErrorCode.UNABLE_TO_SUBSCRIBE)
    assert (refused.outcome, refused.error) == refusal
    assert state.current.locked_by_user
    assert state.as_of(operator.provenance.effective_at).status is SubscriptionStatus.UNSUBSCRIBED


def test_the_same_source_again_is_a_duplicate() -> None:
    row = update(SubscriptionStatus.SUBSCRIBED, 1, source_id="file.csv:2")
    state, events = run([row, row, start(3), row])
    assert [type(e) for e in events] == [
        ChannelUpdateRecorded, ChannelUpdateDuplicated, ChannelUpdateRecorded,
        ChannelUpdateDuplicated,
    ]  # fmt: skip
    assert len(state.updates) == 2


@given(st.data())
def test_any_arrival_order_ends_in_the_same_state_and_history(data: st.DataObject) -> None:
    made = data.draw(updates())
    baseline, _ = run(made)
    shuffled, events = run(data.draw(st.permutations(made + made[:2])))
    assert shuffled.current == baseline.current
    assert set(shuffled.updates) == set(baseline.updates)
    loaded = [MAPPER.to_domain_event(MAPPER.to_stored_event(e)) for e in events]
    assert loaded == events
    assert fold_channel(loaded) == shuffled
    assert shuffled.id == CONTACT.subscription_id


def test_subscription_ids_are_per_vector() -> None:
    assert CONTACT.subscription_id == ContactKey.parse("sms", "+12135618345").subscription_id
    assert CONTACT.subscription_id != ContactKey.parse("whatsapp", "+12135618345").subscription_id


@given(st.data())
def test_the_kept_state_and_each_decision_equal_a_full_replay(data: st.DataObject) -> None:
    """The aggregate keeps its current state step by step and decides newest updates in one
    step; both must be what replaying every update (`rules.arrival`) says."""
    made = data.draw(updates())
    state: ChannelSubscription | None = None
    for item in data.draw(st.permutations(made)):
        event = decide_channel_update(state, CONTACT, item, recorded_at=FIXED_TIME)
        earlier = state.updates if state is not None else ()
        assert isinstance(event, ChannelUpdateRecorded)
        expected = arrival(earlier, item)
        assert (event.outcome, event.error, event.after) == (
            expected.outcome, expected.error, expected.after,
        )  # fmt: skip
        assert event.before == channel_state(earlier)
        state = evolve_channel(state, event)
        assert state.current == channel_state(state.updates)
        assert state.newest == max(u.replay_key for u in state.updates)
