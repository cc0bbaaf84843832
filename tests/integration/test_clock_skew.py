"""No source's clock can outrank a user's own opt-out (ARCHITECTURE.md invariant 8).

Consent replays in effective-time order, so a time claimed in the future used to outlast
everything after it: an identify dated 9999-12-31 SUBSCRIBED kept a contact sendable after the
user's own unsubscribe, and a far-future UNSUBSCRIBED made every later change "succeed" while
nothing changed. The clock-skew policy (engage_core/clock.py) clamps such times to when the
change was recorded, and keeps what was claimed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engage_core import EngageApplication, Observation
from engage_core.clock import ClockSkewPolicy
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ChannelUpdateRecorded, request_outcome
from engage_core.consent.rules import (
    OPERATOR_SOURCES,
    Provenance,
    SourceKind,
    SubscriptionStatus,
    Update,
    channel_state,
)

SUB, UNSUB = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
DNS = SubscriptionStatus.DID_NOT_SUBSCRIBE
START = datetime(2026, 6, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
EMAIL = ContactKey.parse("EMAIL", "ada@example.com")
SMS = ContactKey.parse("SMS", "+12135618345")
OPERATORS = (SourceKind.CSV, SourceKind.API, SourceKind.IDENTIFY)


class Clock:
    """The application's recording clock, moved on by each step."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def app_with(clock: Clock) -> EngageApplication:
    return EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)


def operator(status: SubscriptionStatus, claimed: datetime, kind: SourceKind, n: int) -> Update:
    return Update(status, Provenance(kind, f"op-{n}", claimed, claimed))


def operator_step(step: tuple[object, ...], n: int) -> Update:
    """The operator update a drawn `("operator", status, kind, claimed time)` step asks for."""
    _, status, kind, claimed = step
    assert isinstance(status, SubscriptionStatus)
    assert isinstance(kind, SourceKind)
    assert isinstance(claimed, datetime)
    return operator(status, claimed, kind, n)


def user(status: SubscriptionStatus, at: datetime, n: int, **lock: bool) -> Update:
    kind = SourceKind.KEYWORD if lock else SourceKind.PROVIDER
    return Update(status, Provenance(kind, f"user-{n}", at, at), **lock)


def test_a_far_future_subscribe_does_not_outlast_the_users_unsubscribe() -> None:
    clock = Clock()
    app = app_with(clock)
    (first,) = app.set_channel_subscriptions(
        [(EMAIL, operator(SUB, FAR_FUTURE, SourceKind.IDENTIFY, 1))]
    )
    assert isinstance(first, ChannelUpdateRecorded)
    # recorded as of when it arrived, with the claimed time kept
    assert first.update.provenance.effective_at == START
    assert first.update.provenance.claimed_at == FAR_FUTURE
    clock.now = START + timedelta(hours=1)
    unsubscribe = Observation.create(
        "email", "sendgrid", "sg-1", "unsubscribe", occurred_at=clock.now - timedelta(minutes=1),
        event_id="ev-1", details={"email": "ada@example.com"},
    )  # fmt: skip
    app.observe([unsubscribe])
    assert app.can_send(EMAIL).allowed is False
    history = app.subscription(EMAIL).history
    assert [u.provenance.kind for u, _ in history] == [SourceKind.IDENTIFY, SourceKind.PROVIDER]


def test_after_a_far_future_unsubscribe_a_later_subscribe_changes_the_state() -> None:
    clock = Clock()
    app = app_with(clock)
    app.set_channel_subscriptions([(EMAIL, operator(UNSUB, FAR_FUTURE, SourceKind.API, 1))])
    clock.now = START + timedelta(minutes=1)
    decided = app.set_channel_subscriptions([(EMAIL, operator(SUB, clock.now, SourceKind.API, 2))])
    assert request_outcome(decided) == "applied"
    assert app.can_send(EMAIL).allowed is True
    # and a stale one is answered as stale, not as a success
    old = app.set_channel_subscriptions([(EMAIL, operator(UNSUB, START, SourceKind.CSV, 3))])
    assert request_outcome(old) == "stale"
    assert app.can_send(EMAIL).allowed is True


def test_a_provider_may_run_a_little_ahead_but_not_more() -> None:
    clock = Clock()
    app = app_with(clock)
    policy = ClockSkewPolicy()
    ahead = START + timedelta(minutes=4)
    (near,) = app.set_channel_subscriptions([(SMS, user(UNSUB, ahead, 1))])
    assert near.update.provenance.effective_at == ahead  # within the allowance: as claimed
    assert near.update.provenance.claimed_at is None
    (far,) = app.set_channel_subscriptions([(SMS, user(UNSUB, START + timedelta(hours=1), 2))])
    assert far.update.provenance.effective_at == START
    assert policy.bound(START + policy.allowance, START)
    assert not policy.bound(START + timedelta(seconds=1), START, operator=True)


def test_a_report_from_the_future_is_recorded_when_it_arrived() -> None:
    clock = Clock()
    app = app_with(clock)
    app.observe([Observation.create("sms", "twilio", "SM1", "delivered", occurred_at=FAR_FUTURE)])
    message = app.find_message(Observation.create("sms", "twilio", "SM1", "sent").channel, "SM1")
    assert message is not None
    (entry,) = [e for e in message.history if e.kind != "inferred"]
    assert (entry.occurred_at, entry.claimed_at) == (START, FAR_FUTURE)
    # the same report again is still a duplicate: its identity is what it claimed
    app.observe([Observation.create("sms", "twilio", "SM1", "delivered", occurred_at=FAR_FUTURE)])
    again = app.find_message(message.state.channel, "SM1")
    assert again is not None
    assert again.history[-1].kind == "duplicate"


times = st.one_of(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 30)).map(
        lambda t: t.replace(tzinfo=UTC)
    ),
    st.integers(-3600, 3600).map(lambda s: START + timedelta(seconds=s)),
)
operator_steps = st.tuples(
    st.just("operator"), st.sampled_from([SUB, UNSUB, DNS]), st.sampled_from(OPERATORS), times
)
user_steps = st.tuples(st.sampled_from(["opt_out", "opt_in"]), st.integers(0, 3600))
steps = st.lists(
    st.tuples(st.one_of(operator_steps, user_steps), st.integers(1, 600)), min_size=1, max_size=25
)


def _run(channel: ContactKey, plan: list[tuple[tuple[object, ...], int]]) -> tuple[bool, bool]:
    """Apply the plan in arrival order; whether marketing is allowed at the end, and whether
    the user opted back in after their last opt-out (by the time each was made; two at the
    same time are ordered as the rules replay them, by source id)."""
    clock = Clock()
    app = app_with(clock)
    last_out: tuple[datetime, str] | None = None
    last_in: tuple[datetime, str] | None = None
    locks = channel.channel.value != "EMAIL"
    for n, (step, gap) in enumerate(plan):
        clock.now += timedelta(seconds=gap)
        if step[0] == "operator":
            app.set_channel_subscriptions([(channel, operator_step(step, n))])
            continue
        # a user's own act, reported by its provider up to an hour late (honest times)
        kind, late = step
        assert isinstance(late, int)
        at = clock.now - timedelta(seconds=late)
        if kind == "opt_out":
            app.set_channel_subscriptions([(channel, user(UNSUB, at, n, lock=locks))])
            last_out = max(last_out or (at, f"user-{n}"), (at, f"user-{n}"))
        else:
            app.set_channel_subscriptions([(channel, user(SUB, at, n, unlock=locks))])
            last_in = max(last_in or (at, f"user-{n}"), (at, f"user-{n}"))
    opted_back_in = last_out is None or (last_in is not None and last_in > last_out)
    return app.can_send(channel).allowed, opted_back_in


@settings(max_examples=max(60, settings().max_examples))
@given(steps)
def test_no_operator_time_outranks_a_users_stop(plan: list[tuple[tuple[object, ...], int]]) -> None:
    """SMS (a STOP locks): whatever the operators send, with whatever times, marketing is
    never allowed after the user's last STOP unless the user sent START after it."""
    allowed, opted_back_in = _run(SMS, plan)
    if allowed:
        assert opted_back_in


@settings(max_examples=max(60, settings().max_examples))
@given(steps)
def test_no_operator_time_outranks_a_users_unsubscribe(
    plan: list[tuple[tuple[object, ...], int]],
) -> None:
    """Email (no lock): an operator may subscribe an address again after the user's
    unsubscribe only by an update made after it, by a real clock: an operator's claimed
    time counts no later than when the update was recorded."""
    clock = START
    honest_subscribes: list[datetime] = []
    last_out: datetime | None = None
    for step, gap in plan:
        clock += timedelta(seconds=gap)
        if step[0] == "operator" and step[1] is SUB:
            claimed = step[3]
            assert isinstance(claimed, datetime)
            honest_subscribes.append(min(claimed, clock))
        elif step[0] == "opt_in":
            late = step[1]
            assert isinstance(late, int)
            honest_subscribes.append(clock - timedelta(seconds=late))
        elif step[0] == "opt_out":
            late = step[1]
            assert isinstance(late, int)
            at = clock - timedelta(seconds=late)
            last_out = max(last_out or at, at)
    allowed, _ = _run(EMAIL, plan)
    if allowed and last_out is not None:
        assert any(t > last_out for t in honest_subscribes)


def test_a_users_opt_in_with_a_fast_clock_does_not_outrank_their_later_stop() -> None:
    """The allowance is for opt-outs only: a START claiming a few minutes ahead is recorded
    as of its arrival, so the user's STOP a minute later still stands."""
    clock = Clock()
    app = app_with(clock)
    (opt_in,) = app.set_channel_subscriptions(
        [(SMS, user(SUB, START + timedelta(minutes=4), 1, unlock=True))]
    )
    assert opt_in.update.provenance.effective_at == START
    clock.now = START + timedelta(minutes=1)
    app.set_channel_subscriptions([(SMS, user(UNSUB, clock.now, 2, lock=True))])
    assert app.can_send(SMS).allowed is False


ALLOWANCE = timedelta(minutes=5)  # the default policy, restated: the oracle below is its own


def _honest(update: Update, now: datetime) -> Update:
    """The update with the time an honest clock gives it (the policy, written out apart)."""
    p = update.provenance
    opt_out = update.lock or update.status is UNSUB
    allowance = ALLOWANCE if opt_out and p.kind not in OPERATOR_SOURCES else timedelta(0)
    recorded = min(p.recorded_at, now)
    if p.effective_at <= recorded + allowance:
        return update
    return Update(
        update.status, Provenance(p.kind, p.source_id, recorded, p.recorded_at), update.lock,
        update.unlock,
    )  # fmt: skip


user_times = st.integers(-3600, 3600)
mixed_steps = st.lists(
    st.tuples(
        st.one_of(
            operator_steps,
            st.tuples(st.sampled_from(["opt_out", "opt_in"]), user_times),
        ),
        st.integers(1, 600),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=max(60, settings().max_examples))
@given(mixed_steps, st.sampled_from([EMAIL, SMS]))
def test_the_state_is_the_replay_with_honest_clocks(
    plan: list[tuple[tuple[object, ...], int]], channel: ContactKey
) -> None:
    """Whatever times the sources claim (far future, far past, a little ahead), the final
    state is the replay of the updates with each time bounded by when it was recorded."""
    clock = Clock()
    app = app_with(clock)
    locks = channel.channel.value != "EMAIL"
    honest: list[Update] = []
    for n, (step, gap) in enumerate(plan):
        clock.now += timedelta(seconds=gap)
        if step[0] == "operator":
            wanted = operator_step(step, n)
        else:
            offset = step[1]
            assert isinstance(offset, int)
            at = clock.now + timedelta(seconds=offset)  # ahead or behind our clock
            out = step[0] == "opt_out"
            wanted = user(UNSUB if out else SUB, at, n, **({"lock": out, "unlock": not out}
                                                          if locks else {}))  # fmt: skip
        app.set_channel_subscriptions([(channel, wanted)])
        honest.append(_honest(wanted, clock.now))
    found = app.channel_subscription(channel)
    assert found is not None
    expected = channel_state(honest)
    assert (found.current.status, found.current.locked_by_user) == (
        expected.status, expected.locked_by_user,
    )  # fmt: skip
