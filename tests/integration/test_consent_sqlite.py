"""Channel subscriptions through the application on a real SQLite file (issue 3, in progress):
STOP, a refused resubscribe, START, an allowed one; reloaded equal; conflicts retried."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engage_core import EngageApplication
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ChannelUpdateRecorded, GroupUpdateRecorded
from engage_core.consent.rules import ConsentOutcome, ErrorCode, SourceKind, SubscriptionStatus
from tests.conftest import FIXED_TIME, sqlite_env
from tests.core.test_consent_rules import T0, start, stop, update

NUMBER = ContactKey.parse("sms", "(213) 561-8345")
SUB = SubscriptionStatus.SUBSCRIBED
T3 = T0 + timedelta(minutes=3)


def test_stop_refuses_operators_until_start(tmp_path: Path) -> None:
    app = EngageApplication(env=sqlite_env(tmp_path / "e.db"), clock=lambda: FIXED_TIME)
    steps = [
        update(SUB, 0, SourceKind.API),
        stop(1),
        update(SUB, 2, SourceKind.CSV),
        start(3),
        update(SUB, 4, SourceKind.CSV),
    ]
    verdicts = []
    for step in steps:  # one request at a time, as they would come in
        (event,) = app.set_channel_subscriptions([(NUMBER, step)])
        assert isinstance(event, ChannelUpdateRecorded)
        verdicts.append((event.outcome, event.error))
    assert verdicts == [
        (ConsentOutcome.APPLIED, None),
        (ConsentOutcome.APPLIED, None),
        (ConsentOutcome.REFUSED, ErrorCode.UNABLE_TO_SUBSCRIBE),
        (ConsentOutcome.APPLIED, None),
        (ConsentOutcome.UNCHANGED, None),  # START already subscribed it
    ]
    app.close()
    reopened = EngageApplication(env=sqlite_env(tmp_path / "e.db"))
    subscription = reopened.channel_subscription(NUMBER)
    assert subscription is not None
    assert subscription.current.status is SUB
    assert not subscription.current.locked_by_user
    assert len(subscription.updates) == len(steps)
    assert subscription.as_of(steps[2].provenance.effective_at).locked_by_user
    # the same questions through the application's query calls
    locked_then = reopened.subscription(NUMBER, as_of=steps[2].provenance.effective_at)
    assert locked_then.state.locked_by_user
    assert [v.outcome for _, v in locked_then.history][-1] is ConsentOutcome.REFUSED
    assert reopened.can_send(NUMBER).allowed
    assert reopened.subscription(NUMBER).groups == {}  # a phone number has no groups
    reopened.close()


def test_a_write_between_decide_and_save_is_retried(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    other = EngageApplication(env=sqlite_env(path))
    rounds: list[int] = []

    class Interleaved(EngageApplication):
        def _decide(self, command, now):  # type: ignore[no-untyped-def]
            found = super()._decide(command, now)
            rounds.append(1)
            if len(rounds) == 1:  # the other writer gets in between our read and our save
                other.set_channel_subscriptions([(NUMBER, stop(1))])
            return found

    app = Interleaved(env=sqlite_env(path))
    (event,) = app.set_channel_subscriptions([(NUMBER, update(SUB, 2, SourceKind.CSV))])
    assert len(rounds) == 2  # decided again after the conflict
    assert isinstance(event, ChannelUpdateRecorded)
    assert event.error is ErrorCode.UNABLE_TO_SUBSCRIBE  # decided on the state with the STOP
    app.close()
    other.close()


def test_group_changes_follow_the_channel(tmp_path: Path) -> None:
    app = EngageApplication(env=sqlite_env(tmp_path / "g.db"), clock=lambda: FIXED_TIME)
    email = ContactKey.parse("EMAIL", "Jane@Example.com")
    unsub = SubscriptionStatus.UNSUBSCRIBED
    (refused,) = app.set_group_subscriptions([(email, "newsletter", update(SUB, 1))])
    assert isinstance(refused, GroupUpdateRecorded)
    assert refused.error is ErrorCode.GLOBAL_STATE_NOT_SUBSCRIBED
    app.set_channel_subscriptions([(email, update(SUB, 2))])
    (applied,) = app.set_group_subscriptions([(email, "newsletter", update(SUB, 3))])
    assert isinstance(applied, GroupUpdateRecorded)
    assert applied.outcome is ConsentOutcome.APPLIED
    assert app.group_subscription(email, "newsletter").status is SUB
    # the user's own group unsubscribe needs nothing, even after the channel is unsubscribed
    app.set_channel_subscriptions([(email, update(unsub, 4))])
    app.set_group_subscriptions([(email, "newsletter", update(unsub, 5, SourceKind.PROVIDER))])
    assert app.group_subscription(email, "newsletter").status is unsub
    assert app.group_subscription(email, "newsletter", as_of=T3).status is SUB
    assert app.group_subscription(email, "promotions").status is None
    app.close()
