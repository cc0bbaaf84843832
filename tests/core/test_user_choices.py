"""A contact's own choices (preference page, one-click unsubscribe, confirmation) and double
opt-in, in the pure core and through the application: the user's opt-out is never overridden
by an operator source, whatever the times and the order of arrival; PENDING waits for the
contact's own confirmation and lapses unconfirmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage_core import EngageApplication
from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.choices import CHANNEL, user_choices, user_confirmation
from engage_core.consent.confirmation import ConsentSettings, confirming, lapsed
from engage_core.consent.contacts import ContactKey
from engage_core.consent.evidence import Proof
from engage_core.consent.rules import (
    INPUT_STATUSES,
    OPERATOR_SOURCES,
    ConsentOutcome,
    ErrorCode,
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
    can_send,
    channel_state,
    group_state,
    replay_channel,
)
from engage_core.observations import InvalidInput

_T0 = datetime(2026, 12, 1, tzinfo=UTC)
_EMAIL = ContactKey.parse("EMAIL", "ada@example.com")
_SUB, _UNSUB = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
_PROOF = Proof(surface="preference_page", ip="203.0.113.9", user_agent="Mozilla/5.0",
               locale="en", token_id="tok")  # fmt: skip


def _operator(n: int, minutes: int, status: SubscriptionStatus, kind: SourceKind) -> Update:
    at = _T0 + timedelta(minutes=minutes)
    return Update(status, Provenance(kind, f"op-{n}", at, at))


_operators = st.lists(
    st.tuples(
        st.integers(-600, 600), st.sampled_from(INPUT_STATUSES), st.sampled_from(sorted(
            OPERATOR_SOURCES, key=lambda k: k.value))),
    max_size=8,
).map(lambda drawn: [_operator(n, *d) for n, d in enumerate(drawn)])  # fmt: skip


def _opt_out(group: str | None, minutes: int) -> list[ConsentChange]:
    at = _T0 + timedelta(minutes=minutes)
    return user_choices(_EMAIL, {group: _UNSUB}, source_id="tok:1", at=at, proof=_PROOF)


@settings(max_examples=150, deadline=None)
@given(operators=_operators, at=st.integers(-600, 600), seed=st.randoms())
def test_a_users_channel_opt_out_stands_against_every_operator_update(
    operators: list[Update], at: int, seed: object
) -> None:
    (change,) = _opt_out(CHANNEL, at)
    assert isinstance(change, ChannelChange)
    updates = [*operators, change.update]
    seed.shuffle(updates)  # type: ignore[attr-defined]
    state = channel_state(updates)
    assert state.status is _UNSUB
    assert state.locked_by_user
    assert not can_send(state, transactional=True).allowed
    # whatever the operators asked after the opt-out, it is refused or an unsubscribe
    later = [u for u in operators if u.replay_key > change.update.replay_key]
    assert all(channel_state([change.update, u]).status is _UNSUB for u in later)


@settings(max_examples=150, deadline=None)
@given(operators=_operators, channel_ops=_operators, at=st.integers(-600, 600))
def test_a_users_group_opt_out_stands_against_every_operator_update(
    operators: list[Update], channel_ops: list[Update], at: int
) -> None:
    (change,) = _opt_out("news", at)
    assert isinstance(change, GroupChange)
    # the channel subscribed throughout, so operators' group changes are judged on their own
    channel = [_operator(99, -10_000, _SUB, SourceKind.API), *channel_ops]
    channel = [u for u in channel if u.status is _SUB]
    state = group_state([*operators, change.update], channel)
    assert state.status is _UNSUB
    assert state.locked_by_user
    assert not can_send(channel_state(channel), state).allowed


def test_the_users_own_subscribe_lifts_their_lock_and_an_operator_may_then_act() -> None:
    out = _opt_out("news", 0)[0].update
    back = user_choices(_EMAIL, {"news": _SUB}, source_id="tok:2",
                        at=_T0 + timedelta(hours=1))[0].update  # fmt: skip
    channel = [_operator(0, -60, _SUB, SourceKind.CSV)]
    operator_out = _operator(1, 120, _UNSUB, SourceKind.CSV)
    operator_in = _operator(2, 180, _SUB, SourceKind.CSV)
    assert group_state([out, back], channel) == SubscriptionState(
        _SUB, False, back.provenance.effective_at
    )
    assert group_state([out, back, operator_out, operator_in], channel).status is _SUB
    # without the user's subscribe, the operator's is refused
    assert group_state([out, operator_in], channel).status is _UNSUB


def test_every_choice_is_recorded_channel_first_and_groups_are_for_email_only() -> None:
    wanted = {"offers": _UNSUB, CHANNEL: _SUB, "news": _SUB}
    changes = user_choices(_EMAIL, wanted, source_id="s", at=_T0, proof=_PROOF)
    assert [(type(c).__name__, getattr(c, "group", None), c.update.status) for c in changes] == [
        ("ChannelChange", None, _SUB), ("GroupChange", "news", _SUB),
        ("GroupChange", "offers", _UNSUB)]  # fmt: skip
    for change in changes:
        update = change.update
        assert update.lock is (update.status is _UNSUB)
        assert update.unlock is (update.status is _SUB)
        assert update.provenance.kind is SourceKind.PREFERENCE_CENTER
        assert update.provenance.proof == _PROOF
    phone = ContactKey.parse("SMS", "+14155550100")
    with pytest.raises(InvalidInput):
        user_choices(phone, {"news": _UNSUB}, source_id="s", at=_T0)
    with pytest.raises(InvalidInput):
        user_choices(_EMAIL, {CHANNEL: SubscriptionStatus.PENDING}, source_id="s", at=_T0)


def test_a_users_subscribe_holds_whichever_operator_update_arrived_first() -> None:
    """Operator SUBSCRIBED at 10:00, the contact's SUBSCRIBED on the page at 10:05, an
    operator's UNSUBSCRIBED effective 10:02 arriving before or after the page's: the same end,
    because the page records the contact's choice even when it already held."""
    at = {m: _T0 + timedelta(minutes=m) for m in (0, 2, 5)}
    operator_in = Update(_SUB, Provenance(SourceKind.CSV, "in", at[0], at[0]))
    operator_out = Update(_UNSUB, Provenance(SourceKind.CSV, "out", at[2], at[2]))
    finals = []
    for late_first in (True, False):
        app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        app.change_consent([ChannelChange(_EMAIL, operator_in)])
        if late_first:
            app.change_consent([ChannelChange(_EMAIL, operator_out)])
        app.change_consent(user_choices(_EMAIL, {CHANNEL: _SUB}, source_id="p", at=at[5]))
        if not late_first:
            app.change_consent([ChannelChange(_EMAIL, operator_out)])
        finals.append(app.subscription(_EMAIL).state)
    assert finals[0] == finals[1]
    assert finals[0].status is _SUB


def test_proof_fields_are_stripped_and_bounded() -> None:
    proof = Proof(surface="  one_click ", user_agent="x" * 2000, locale="", ip=None)
    assert proof.surface == "one_click"
    assert proof.locale is None
    assert proof.user_agent == "x" * 512


_DOUBLE = ConsentSettings(confirm=frozenset({Channel.EMAIL}), confirmation_window=timedelta(days=2))


def test_double_opt_in_makes_an_operators_subscribe_pending_until_the_user_confirms() -> None:
    app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.consent_settings = _DOUBLE
    csv = Update(_SUB, Provenance(SourceKind.CSV, "f.csv:2", _T0, _T0))
    (pending,) = app.change_consent([ChannelChange(_EMAIL, csv)])
    assert pending.after.status is SubscriptionStatus.PENDING  # type: ignore[attr-defined]
    assert not app.can_send(_EMAIL).allowed
    assert "PENDING" in app.can_send(_EMAIL).reason
    assert app.can_send(_EMAIL, transactional=True).allowed
    # an SMS number is not confirmed: SUBSCRIBED as asked
    phone = ContactKey.parse("SMS", "+14155550100")
    app.change_consent([ChannelChange(phone, csv)])
    assert app.can_send(phone).allowed
    # the user's confirmation subscribes; asked again, the operator's SUBSCRIBED changes nothing
    confirmed_at, proof = _T0 + timedelta(hours=1), Proof(surface="confirmation")
    confirm = user_confirmation(_EMAIL, source_id="tok:c", at=confirmed_at, proof=proof)
    app.change_consent([confirm])
    assert app.can_send(_EMAIL).allowed
    again = Update(_SUB, Provenance(SourceKind.API, "req-9", _T0 + timedelta(hours=2),
                                    _T0 + timedelta(hours=2)))  # fmt: skip
    app.change_consent([ChannelChange(_EMAIL, again)])
    assert app.subscription(_EMAIL).state.status is _SUB


def test_a_pending_lapses_unconfirmed_and_asked_again_starts_afresh() -> None:
    first = Update(SubscriptionStatus.PENDING, Provenance(SourceKind.CSV, "a", _T0, _T0))
    state = channel_state([first])
    assert lapsed(state, _T0 + timedelta(days=1), _DOUBLE).status is SubscriptionStatus.PENDING
    assert lapsed(state, _T0 + timedelta(days=2), _DOUBLE) == SubscriptionState()
    again_at = _T0 + timedelta(days=3)
    again = Update(SubscriptionStatus.PENDING, Provenance(SourceKind.API, "b", again_at, again_at))
    assert channel_state([first, again]) == SubscriptionState(
        SubscriptionStatus.PENDING, False, again_at
    )
    # a user's STOP-like lock refuses the operator's request outright
    locked = Update(_UNSUB, Provenance(SourceKind.PREFERENCE_CENTER, "t", _T0, _T0), lock=True)
    later = _T0 + timedelta(minutes=1)
    request = Update(SubscriptionStatus.PENDING, Provenance(SourceKind.CSV, "c", later, later))
    assert channel_state([locked, request]).status is _UNSUB


def test_confirming_touches_only_operator_subscribes_on_confirmed_channels() -> None:
    user = Update(_SUB, Provenance(SourceKind.PREFERENCE_CENTER, "t", _T0, _T0), unlock=True)
    out = Update(_UNSUB, Provenance(SourceKind.CSV, "u", _T0, _T0))
    op = Update(_SUB, Provenance(SourceKind.IDENTIFY, "i", _T0, _T0))
    changes: list[ConsentChange] = [
        ChannelChange(_EMAIL, user), ChannelChange(_EMAIL, out), ChannelChange(_EMAIL, op),
        GroupChange(_EMAIL, "news", update=op)]  # fmt: skip
    made = confirming(changes, _DOUBLE)
    assert [c.update.status for c in made] == [_SUB, _UNSUB, SubscriptionStatus.PENDING, _SUB]
    assert confirming(changes, ConsentSettings()) == changes


def test_consent_settings_from_the_environment() -> None:
    made = ConsentSettings.from_environment(
        {"ENGAGE_DOUBLE_OPT_IN": "Email, sms", "ENGAGE_CONFIRMATION_HOURS": "48"})  # fmt: skip
    assert made == ConsentSettings(frozenset({Channel.EMAIL, Channel.SMS}), timedelta(hours=48))
    assert ConsentSettings.from_environment({}) == ConsentSettings()
    for bad in ({"ENGAGE_DOUBLE_OPT_IN": "fax"}, {"ENGAGE_CONFIRMATION_HOURS": "0"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ConsentSettings.from_environment(bad)
    assert ErrorCode.UNABLE_TO_SUBSCRIBE  # the code operators get against a user's lock


def test_the_application_reads_a_lapsed_pending_as_no_state() -> None:
    now = [_T0]
    app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                            clock=lambda: now[0])  # fmt: skip
    app.consent_settings = _DOUBLE
    csv = Update(_SUB, Provenance(SourceKind.CSV, "f.csv:2", _T0, _T0))
    app.change_consent([ChannelChange(_EMAIL, csv)])
    assert app.subscription(_EMAIL).state.status is SubscriptionStatus.PENDING
    now[0] = _T0 + timedelta(days=3)  # past the two-day window
    assert app.subscription(_EMAIL).state == SubscriptionState()
    assert app.subscription(_EMAIL, as_of=_T0 + timedelta(days=1)).state.status is (
        SubscriptionStatus.PENDING)  # fmt: skip
    assert not app.can_send(_EMAIL).allowed


def test_only_a_change_of_status_or_lock_is_published() -> None:
    """A PENDING asked again, or a late update of the status that holds, moves only `since`:
    recorded, published to nobody (DOMAIN: only a real change emits)."""
    from engage_core.consent.events import ChannelUpdateRecorded, ConsentEvent
    from engage_core.segment.mapping import consent_events as published

    def consent_events(event: ConsentEvent) -> list[object]:
        assert isinstance(event, ChannelUpdateRecorded)
        return list(published(event))

    app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                            clock=lambda: _T0 + timedelta(days=1))  # fmt: skip
    app.consent_settings = _DOUBLE
    at = [_T0 + timedelta(hours=h) for h in range(4)]
    first = app.change_consent([ChannelChange(_EMAIL, Update(_SUB, Provenance(
        SourceKind.IDENTIFY, "i1", at[1], at[1])))])  # fmt: skip
    again = app.change_consent([ChannelChange(_EMAIL, Update(_SUB, Provenance(
        SourceKind.IDENTIFY, "i2", at[2], at[2])))])  # fmt: skip
    assert [len(consent_events(e)) for e in first] == [1]  # none → PENDING
    assert again[0].after.effective_at == at[2]  # type: ignore[attr-defined]
    assert [consent_events(e) for e in again] == [[]]  # PENDING → PENDING: nothing published
    phone = ContactKey.parse("SMS", "+14155550100")
    app.change_consent([ChannelChange(phone, Update(_SUB, Provenance(
        SourceKind.API, "b", at[2], at[2])))])  # fmt: skip
    late = app.change_consent([ChannelChange(phone, Update(_SUB, Provenance(
        SourceKind.CSV, "a", at[1], at[1])))])  # fmt: skip
    assert [consent_events(e) for e in late] == [[]]  # SUBSCRIBED since 01:00, not 02:00


def test_naive_times_are_utc_in_every_answer() -> None:
    app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                            clock=lambda: _T0 + timedelta(hours=3))  # fmt: skip
    app.consent_settings = _DOUBLE
    app.change_consent([ChannelChange(_EMAIL, Update(_SUB, Provenance(
        SourceKind.CSV, "a", _T0, _T0)))])  # fmt: skip
    naive = (_T0 + timedelta(hours=1)).replace(tzinfo=None)
    assert app.subscription(_EMAIL, as_of=naive).state.status is SubscriptionStatus.PENDING
    aware = app.consent_proof(_EMAIL, as_of=_T0 + timedelta(hours=1))
    other_zone = app.consent_proof(
        _EMAIL, as_of=(_T0 + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
    )
    assert aware["digest"] == other_zone["digest"] == app.consent_proof(_EMAIL, as_of=naive)[
        "digest"]  # fmt: skip


def test_a_backdated_request_waits_its_whole_window_from_when_it_was_recorded() -> None:
    recorded = _T0 + timedelta(days=10)
    app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                            clock=lambda: recorded + timedelta(days=1))  # fmt: skip
    app.consent_settings = _DOUBLE  # a two-day window
    app.change_consent([ChannelChange(_EMAIL, Update(_SUB, Provenance(
        SourceKind.CSV, "dated", _T0, recorded)))])  # fmt: skip
    assert app.subscription(_EMAIL).state.status is SubscriptionStatus.PENDING
    assert app.consent_proof(_EMAIL)["state"]["status"] == "PENDING"


@settings(max_examples=60, deadline=None)
@given(operators=_operators, confirm_at=st.integers(-600, 600), pending_at=st.integers(-600, 0),
       seed=st.randoms())  # fmt: skip
def test_a_confirmation_counts_where_it_replays_whatever_the_arrival_order(
    operators: list[Update], confirm_at: int, pending_at: int, seed: object
) -> None:
    at = _T0 + timedelta(minutes=pending_at)
    request = Update(SubscriptionStatus.PENDING, Provenance(SourceKind.CSV, "req", at, at))
    confirm = user_confirmation(_EMAIL, source_id="tok:confirm",
                                at=_T0 + timedelta(minutes=confirm_at)).update  # fmt: skip
    updates = [*operators, request, confirm]
    finals = set()
    for _ in range(3):
        seed.shuffle(updates)  # type: ignore[attr-defined]
        app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        for update in updates:  # each arrives after those before it
            app.change_consent([ChannelChange(_EMAIL, update)])
        found = app.channel_subscription(_EMAIL)
        assert found is not None
        finals.add(found.current)
    (final,) = finals
    assert final == channel_state(updates)
    # it subscribes exactly when a PENDING holds where it replays, and otherwise changes nothing
    replayed = replay_channel(updates)
    (verdict,) = [v for u, v in replayed if u is confirm]
    before = channel_state([u for u, _ in replayed[: replayed.index((confirm, verdict))]])
    if before.status is SubscriptionStatus.PENDING:
        assert verdict.after.status is _SUB
    else:
        assert verdict.outcome is ConsentOutcome.UNCHANGED
