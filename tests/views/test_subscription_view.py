"""The subscription view: current state and temporal history with provenance, and `as_of`
answering exactly what the application answers, at every recorded instant, for random
workloads (late updates, STOP locks, groups judged by their channel)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import SubscriptionView, Views, catch_up
from engage_core import EngageApplication
from engage_core.consent.changes import ChannelChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ChannelUpdateRecorded, GroupUpdateRecorded
from engage_core.consent.rules import (
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
)
from tests.views.conftest import memory_app
from tests.views.workload import START, apply, workload

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


def _recorded(app: EngageApplication) -> dict[tuple[str, str, str | None], set[datetime]]:
    """Every subscription the log has an update for, with the updates' effective times."""
    found: dict[tuple[str, str, str | None], set[datetime]] = {}
    for notification in app.recorder.select_notifications(0, 1_000_000):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, ChannelUpdateRecorded | GroupUpdateRecorded):
            group = event.group if isinstance(event, GroupUpdateRecorded) else None
            where = (event.channel.value, event.key, group)
            found.setdefault(where, set()).add(event.update.provenance.effective_at)
    return found


def _app_state(app: EngageApplication, where: tuple[str, str, str | None],
               at: datetime | None) -> SubscriptionState:  # fmt: skip
    channel, key, group = where
    contact = ContactKey.parse(channel, key)
    if group is not None:
        return app.group_subscription(contact, group, as_of=at)
    found = app.channel_subscription(contact)
    assert found is not None
    return found.current if at is None else found.as_of(at)


@settings(max_examples=max(25, settings().max_examples // 4))
@given(seed=st.integers(0, 2**32 - 1), page=st.integers(1, 20))
def test_as_of_equals_the_application_at_every_recorded_instant(seed: int, page: int) -> None:
    app = memory_app()
    views = Views(":memory:")
    view = views.by_name[SubscriptionView.name]
    assert isinstance(view, SubscriptionView)
    try:
        for batch in workload(seed, messages=8, changes=40, people=2):
            apply(app, batch)
            catch_up(app, [view], page=page)
        recorded = _recorded(app)
        assert recorded
        for where, times in recorded.items():
            channel, key, group = where
            assert view.current(channel, key, group) == _app_state(app, where, None), where
            tick = timedelta(microseconds=1)
            for moment in sorted({t + d for t in times for d in (-tick, timedelta(0), tick)}):
                expected = _app_state(app, where, moment)
                assert view.as_of(channel, key, group, at=moment) == expected, (where, moment)
    finally:
        views.close()
        app.close()
