"""The group subscription aggregate's decisions equal the full replay of the rules, whatever the
channel's updates and the order things arrive in (a first group update is decided in one step
against the channel's kept state; that shortcut must change nothing)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engage_core.consent.contacts import ContactKey
from engage_core.consent.decide import decide_channel_update, decide_group_update
from engage_core.consent.events import GroupUpdateRecorded
from engage_core.consent.evolve import evolve_channel, evolve_group
from engage_core.consent.rules import Update, arrival, group_state, replay_group
from engage_core.consent.state import ChannelSubscription, GroupSubscription
from tests.conftest import FIXED_TIME
from tests.core.test_consent_rules import updates

EMAIL = ContactKey.parse("EMAIL", "Someone@Example.com")


def channel_of(made: list[Update]) -> ChannelSubscription | None:
    state: ChannelSubscription | None = None
    for item in made:
        state = evolve_channel(
            state, decide_channel_update(state, EMAIL, item, recorded_at=FIXED_TIME)
        )
    return state


@given(st.data())
def test_group_decisions_equal_a_full_replay(data: st.DataObject) -> None:
    channel = channel_of(data.draw(updates()))
    channel_updates = channel.updates if channel is not None else ()
    group_updates = [
        Update(u.status, u.provenance) for u in data.draw(updates())
    ]  # no lock/unlock: groups have no STOP
    state: GroupSubscription | None = None
    for item in data.draw(st.permutations(group_updates)):
        event = decide_group_update(
            state, EMAIL, "Newsletter", item, channel, recorded_at=FIXED_TIME
        )
        earlier = state.updates if state is not None else ()
        expected = arrival(earlier, item, lambda us: replay_group(us, channel_updates))
        assert isinstance(event, GroupUpdateRecorded)
        assert (event.outcome, event.error, event.after) == (
            expected.outcome, expected.error, expected.after,
        )  # fmt: skip
        assert event.before == group_state(earlier, channel_updates)
        state = evolve_group(state, event)
