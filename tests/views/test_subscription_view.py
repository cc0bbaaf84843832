"""The subscription view: current state and temporal history with provenance, for the cases
that matter most told as examples (a late STOP, a late channel update re-judging a group); the
property over random workloads, live and rebuilt, is `test_subscription_view_core.py`."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.views import SubscriptionView, Views, catch_up
from engage_core import EngageApplication
from engage_core.consent.changes import ChannelChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import GroupStateRejudged
from engage_core.consent.rules import (
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
)
from tests.views.workload import START

SUB, UNSUB = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
PHONE = ContactKey.parse("SMS", "+12135618345")
EMAIL = ContactKey.parse("EMAIL", "Jo@Example.com")


def update(status: SubscriptionStatus, minute: int, kind: SourceKind = SourceKind.API,
           lock: bool = False) -> Update:  # fmt: skip
    moment = START + timedelta(minutes=minute)
    provenance = Provenance(kind, f"{kind.value}-{minute}", moment, moment, "u1")
    return Update(status, provenance, lock)


def subscriptions(app: EngageApplication, views: Views) -> SubscriptionView:
    view = views.by_name[SubscriptionView.name]
    assert isinstance(view, SubscriptionView)
    catch_up(app, [view])
    return view


def minute(n: float) -> datetime:
    return START + timedelta(minutes=n)


def test_a_late_stop_refuses_the_resubscribe_it_came_before(
    app: EngageApplication, views: Views
) -> None:
    app.change_consent([ChannelChange(PHONE, update(SUB, 20))])
    app.change_consent([ChannelChange(PHONE, update(UNSUB, 10, SourceKind.KEYWORD, lock=True))])
    view = subscriptions(app, views)
    history = view.history("sms", "(213) 561-8345")
    assert [(r["source"], r["recorded_outcome"], r["outcome"], r["error"]) for r in history] == [
        ("keyword", "stale", "applied", None),  # arrived late, and still locks
        ("api", "applied", "refused", "UNABLE_TO_SUBSCRIBE"),  # as it stands now
    ]
    assert history[0]["user_id"] == "u1"
    locked = SubscriptionState(UNSUB, True, minute(10))
    assert view.current("SMS", PHONE.key) == locked
    assert view.as_of("sms", PHONE.key, at=minute(9.9)) == SubscriptionState()
    assert view.as_of("sms", PHONE.key, at=minute(10)) == locked
    assert view.as_of("sms", PHONE.key, at=minute(30)) == locked
    channel = app.channel_subscription(PHONE)
    assert channel is not None
    assert channel.current == locked
    with view.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT source, source_id, updates FROM subscription_current")
        assert [tuple(row) for row in cursor.fetchall()] == [("keyword", "keyword-10", 2)]


def test_a_channel_update_arriving_late_replays_the_groups_after_it(
    app: EngageApplication, views: Views
) -> None:
    app.change_consent([GroupChange(EMAIL, "Newsletter", update=update(SUB, 50))])
    view = subscriptions(app, views)
    (refused,) = view.history("email", EMAIL.key, "Newsletter")
    assert (refused["outcome"], refused["error"]) == ("refused", "GLOBAL_STATE_NOT_SUBSCRIBED")

    app.change_consent([ChannelChange(EMAIL, update(SUB, 30))])  # effective before the group's
    view = subscriptions(app, views)
    (row,) = view.history("email", EMAIL.key, "Newsletter")
    assert (row["recorded_outcome"], row["outcome"], row["status"]) == (
        "refused", "applied", "SUBSCRIBED",
    )  # fmt: skip
    expected = app.group_subscription(EMAIL, "Newsletter")
    assert expected == SubscriptionState(SUB, False, minute(50))
    assert view.current("email", EMAIL.key, "Newsletter") == expected
    assert view.as_of("email", EMAIL.key, "Newsletter", at=minute(49)) == SubscriptionState()


def test_a_late_channel_update_re_judges_a_group_even_where_no_event_says_so(
    app: EngageApplication, views: Views
) -> None:
    """A `GroupStateRejudged` records a changed end status; here only the group's past and its
    `since` change, so the view must replay rather than wait for a recorded re-judgement."""
    for change in (
        ChannelChange(EMAIL, update(SUB, 20)),
        GroupChange(EMAIL, "Newsletter", update=update(SUB, 10)),  # refused
        GroupChange(EMAIL, "Newsletter", update=update(SUB, 30)),  # applied
        ChannelChange(EMAIL, update(SUB, 5, SourceKind.CSV)),  # late
    ):
        app.change_consent([change])
        view = subscriptions(app, views)  # a page each
    log = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(0, 100)]
    assert not any(isinstance(event, GroupStateRejudged) for event in log)
    since_ten = SubscriptionState(SUB, False, minute(10))
    assert app.group_subscription(EMAIL, "Newsletter") == since_ten
    assert view.current("email", EMAIL.key, "Newsletter") == since_ten
    assert view.as_of("email", EMAIL.key, "Newsletter", at=minute(15)) == since_ten
    history = view.history("email", EMAIL.key, "Newsletter")
    assert [(r["recorded_outcome"], r["outcome"]) for r in history] == [
        ("refused", "applied"), ("applied", "unchanged"),
    ]  # fmt: skip
