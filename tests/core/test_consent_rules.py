"""The consent rules: each rule by example, and the order independence, STOP lock and as-of
promises as properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from engage_core.consent.rules import (
    OPERATOR_SOURCES,
    ConsentOutcome,
    ErrorCode,
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
    apply_group_update,
    arrival,
    can_send,
    channel_state,
    group_state,
    replay_channel,
    replay_group,
)
from engage_core.testing import contacts, subscription_updates

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SUB, UNSUB, DNS = (
    SubscriptionStatus.SUBSCRIBED,
    SubscriptionStatus.UNSUBSCRIBED,
    SubscriptionStatus.DID_NOT_SUBSCRIBE,
)


def update(
    status: SubscriptionStatus, minute: int, kind: SourceKind = SourceKind.API,
    *, lock: bool = False, unlock: bool = False, source_id: str | None = None,
) -> Update:  # fmt: skip
    at = T0 + timedelta(minutes=minute)
    return Update(
        status, Provenance(kind, source_id or f"{kind.value}-{minute}", at, at), lock, unlock
    )


def stop(minute: int) -> Update:
    return update(UNSUB, minute, SourceKind.KEYWORD, lock=True)


def start(minute: int) -> Update:
    return update(SUB, minute, SourceKind.KEYWORD, unlock=True)


def test_statuses_in_every_spelling() -> None:
    for word in ["subscribed", "SUBSCRIBED", " Subscribed "]:
        assert SubscriptionStatus.parse(word) is SUB
    for word in ["did-not-subscribe", "did_not_subscribe", "DID_NOT_SUBSCRIBE"]:
        assert SubscriptionStatus.parse(word) is DNS


def test_stop_locks_until_start() -> None:
    replayed = replay_channel(
        [update(SUB, 0), stop(1), update(SUB, 2, SourceKind.CSV), update(UNSUB, 3),
         update(DNS, 4, SourceKind.IDENTIFY), start(5), update(SUB, 6), update(UNSUB, 7)]
    )  # fmt: skip
    assert [(v.outcome, v.error) for _, v in replayed] == [
        (ConsentOutcome.APPLIED, None),
        (ConsentOutcome.APPLIED, None),  # STOP: unsubscribed and locked
        (ConsentOutcome.REFUSED, ErrorCode.UNABLE_TO_SUBSCRIBE),
        (ConsentOutcome.UNCHANGED, None),  # operators may still unsubscribe: it is already so
        (ConsentOutcome.REFUSED, ErrorCode.UNABLE_TO_SUBSCRIBE),  # nor move it off unsubscribed
        (ConsentOutcome.APPLIED, None),  # START: subscribed, unlocked
        (ConsentOutcome.UNCHANGED, None),
        (ConsentOutcome.APPLIED, None),
    ]
    assert replayed[1][1].after.locked_by_user
    assert not replayed[5][1].after.locked_by_user


def test_a_users_own_opt_out_is_never_refused() -> None:
    locked = channel_state([stop(0)])
    for kind in (SourceKind.PROVIDER, SourceKind.POLICY, SourceKind.KEYWORD):
        assert channel_state([stop(0), update(UNSUB, 1, kind)]) == locked
    group = SubscriptionState(SUB, False, T0)
    for channel in (None, UNSUB, DNS):
        verdict = apply_group_update(group, update(UNSUB, 1, SourceKind.PROVIDER), channel)
        assert verdict.outcome is ConsentOutcome.APPLIED


def test_operator_group_changes_need_the_channel_subscribed() -> None:
    group = SubscriptionState()
    for channel in (None, UNSUB, DNS):
        for kind in OPERATOR_SOURCES:
            verdict = apply_group_update(group, update(SUB, 1, kind), channel)
            assert verdict.outcome is ConsentOutcome.REFUSED
            assert verdict.error is ErrorCode.GLOBAL_STATE_NOT_SUBSCRIBED
            assert verdict.after == group  # nothing changes
    assert apply_group_update(group, update(SUB, 1), SUB).outcome is ConsentOutcome.APPLIED


def test_a_late_stop_still_locks_and_a_late_operator_update_is_stale() -> None:
    operator_subscribe = update(SUB, 5)
    assert arrival([operator_subscribe], stop(1)).outcome is ConsentOutcome.STALE
    # but replayed where it belongs, the earlier STOP refuses the later resubscribe
    state = channel_state([operator_subscribe, stop(1)])
    assert (state.status, state.locked_by_user) == (UNSUB, True)
    assert arrival([stop(1)], operator_subscribe).outcome is ConsentOutcome.REFUSED
    assert arrival([update(UNSUB, 9)], update(SUB, 5)).outcome is ConsentOutcome.STALE


def test_a_user_wins_a_tie() -> None:
    assert channel_state([update(SUB, 1, SourceKind.CSV), stop(1)]).status is UNSUB
    assert channel_state([stop(1), update(SUB, 1, SourceKind.CSV)]).status is UNSUB


# What an update no real source sends says: any status, from any of the kinds of source a
# user's own update comes from (every kind but the operators'), on a minute of T0's first 20.
_UNLOCKED_BY_USERS = st.tuples(
    st.sampled_from(list(SubscriptionStatus)),
    st.integers(0, 20),
    st.sampled_from(sorted(set(SourceKind) - OPERATOR_SOURCES, key=lambda kind: kind.value)),
)


@st.composite
def updates(draw: st.DrawFn) -> list[Update]:
    """One to ten channel updates in arrival order, each on a whole minute of T0's first
    twenty: `subscription_updates` (one definition, the one users get) for a contact of any
    channel, so operators' updates to any status, unsubscribe links, spam reports, STOPs that
    lock and STARTs that unlock (WhatsApp's only undoing a STOP).

    Widened here, on top of it and only here: updates from a user's own sources (provider,
    policy, keyword) to any status and with no lock, which no real source sends and
    `subscription_updates` therefore never draws; the rules must stay order independent even
    for them. They are put in among the shipped ones at drawn places."""
    contact = draw(contacts())
    made = list(draw(subscription_updates(contact, start=T0, minutes=20, min_size=0, max_size=10)))
    extra = draw(st.lists(_UNLOCKED_BY_USERS, min_size=0 if made else 1, max_size=10 - len(made)))
    for n, (status, minute, kind) in enumerate(extra):
        unlocked = update(status, minute, kind, source_id=f"u{n}")
        made.insert(draw(st.integers(0, len(made))), unlocked)
    return made


@given(st.data())
def test_any_arrival_order_ends_the_same(data: st.DataObject) -> None:
    made = data.draw(updates())
    shuffled = data.draw(st.permutations(made))
    assert channel_state(shuffled) == channel_state(made)
    assert {(id(u), v) for u, v in replay_channel(shuffled)} == {
        (id(u), v) for u, v in replay_channel(made)
    }


@given(st.data())
def test_stop_holds_against_any_operator_interleaving(data: st.DataObject) -> None:
    made = [u for u in data.draw(updates()) if not (u.lock or u.unlock)]
    operators = [u for u in made if u.provenance.kind in OPERATOR_SOURCES]
    stop_at = data.draw(st.integers(0, 20))
    arrivals = data.draw(st.permutations([*operators, stop(stop_at)]))
    state = channel_state(arrivals)
    later = [u for u in operators if u.provenance.effective_at > T0 + timedelta(minutes=stop_at)]
    assert state.locked_by_user
    assert state.status is UNSUB  # no operator update after the STOP could lift it
    assert all(
        v.outcome in {ConsentOutcome.REFUSED, ConsentOutcome.UNCHANGED}
        for u, v in replay_channel(arrivals)
        if u in later
    )


@given(st.data())
def test_as_of_every_instant_is_the_replay_up_to_it(data: st.DataObject) -> None:
    made = data.draw(updates())
    for minute in range(-1, 22):
        instant = T0 + timedelta(minutes=minute)
        before = [u for u in made if u.provenance.effective_at <= instant]
        assert channel_state(made, as_of=instant) == channel_state(before)


def test_can_send() -> None:
    none, dns = SubscriptionState(), SubscriptionState(DNS)
    subscribed, unsubscribed = SubscriptionState(SUB), SubscriptionState(UNSUB)
    stopped = SubscriptionState(UNSUB, True)
    cases = [
        # channel, group, transactional, allowed
        (subscribed, None, False, True),
        (subscribed, SubscriptionState(SUB), False, True),
        (subscribed, SubscriptionState(UNSUB), False, False),
        (subscribed, none, False, False),
        (dns, None, False, False),
        (none, None, False, False),
        (dns, None, True, True),
        (none, None, True, True),
        (unsubscribed, None, True, False),
        (stopped, None, True, False),
        (stopped, None, False, False),
    ]
    for channel, group, transactional, allowed in cases:
        answer = can_send(channel, group, transactional=transactional)
        assert answer.allowed is allowed, (channel, group, transactional)
        assert answer.reason
    assert "STOP" in can_send(stopped, transactional=True).reason


def test_a_group_change_is_judged_against_the_channel_at_its_time() -> None:
    channel = [update(SUB, 5)]
    early, late = update(SUB, 1), update(SUB, 6)
    replayed = replay_group([early, late], channel)
    assert [(v.outcome, v.error) for _, v in replayed] == [
        # the channel is not yet subscribed
        (ConsentOutcome.REFUSED, ErrorCode.GLOBAL_STATE_NOT_SUBSCRIBED),
        (ConsentOutcome.APPLIED, None),
    ]
    # the user's own group unsubscribe needs nothing
    assert group_state([update(UNSUB, 0, SourceKind.PROVIDER)], []).status is UNSUB


@given(st.data())
def test_group_state_does_not_depend_on_arrival_order(data: st.DataObject) -> None:
    channel = data.draw(updates())
    group = data.draw(updates())
    assert group_state(data.draw(st.permutations(group)), data.draw(st.permutations(channel))) == (
        group_state(group, channel)
    )


def test_times_without_a_zone_are_utc_everywhere() -> None:
    """A naive time from a Python caller is read as UTC (as every way in reads it), so it can
    neither break replay order nor the published timestamps."""
    naive = datetime(2026, 3, 1, 10, 0)
    provenance = Provenance(SourceKind.API, "r", naive, naive)
    assert provenance.effective_at == naive.replace(tzinfo=UTC)
    replayed = [Update(SUB, provenance), update(UNSUB, 11 * 60)]  # 10:00 naive, 11:00 UTC
    assert channel_state(replayed, as_of=datetime(2026, 3, 1, 10, 30)).status is SUB
