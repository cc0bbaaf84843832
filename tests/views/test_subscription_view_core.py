"""The subscription view answers what the core answers: for random streams of consent changes
arriving out of effective-time order (late STOPs, channel updates effective before a group's,
duplicates) and the consent the message traffic causes, its `current`, `as_of` (at every
recorded instant and a microsecond either side) and `history` equal `EngageApplication
.subscription` and `.group_subscription` and the core's own replay, page by page as it is kept
live and again after a rebuild, and each history row keeps what its event recorded; on both
view databases."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import SubscriptionView, catch_up, rebuild
from engage_core import EngageApplication
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ChannelUpdateRecorded, GroupUpdateRecorded
from engage_core.consent.rules import (
    SubscriptionState,
    SubscriptionStatus,
    Update,
    Verdict,
    replay_group,
)
from tests.views.backends import ViewBackend, examples
from tests.views.conftest import memory_app, rows
from tests.views.workload import apply, workload

Where = tuple[str, str, str | None]  # (channel, key, group: None for the channel itself)
WORKLOADS = settings(max_examples=max(25, settings().max_examples // 4))
TICK = timedelta(microseconds=1)


Recorded = ChannelUpdateRecorded | GroupUpdateRecorded


def recorded(app: EngageApplication) -> dict[Where, list[Recorded]]:
    """Every subscription the log has an update for, with its recorded updates in log order."""
    found: dict[Where, list[Recorded]] = defaultdict(list)
    for notification in app.recorder.select_notifications(0, 1_000_000):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, ChannelUpdateRecorded | GroupUpdateRecorded):
            group = event.group if isinstance(event, GroupUpdateRecorded) else None
            found[(event.channel.value, event.key, group)].append(event)
    return found


def _row_replay(row: dict[str, Any]) -> tuple[Any, ...]:
    """A history row as (who, when, what it does in the replay, the state after it)."""
    state = SubscriptionState(
        None if row["status"] is None else SubscriptionStatus(row["status"]),
        bool(row["locked_by_user"]),
        None if row["since"] is None else datetime.fromisoformat(row["since"]),
    )
    return (row["source"], row["source_id"], datetime.fromisoformat(row["effective_at"]),
            row["outcome"], row["error"], state)  # fmt: skip


def _core_replay(update: Update, verdict: Verdict) -> tuple[Any, ...]:
    """An update and its verdict in the core's replay, as `_row_replay` reads a row."""
    p = update.provenance
    return (p.kind.value, p.source_id, p.effective_at, verdict.outcome.value,
            None if verdict.error is None else verdict.error.value, verdict.after)  # fmt: skip


def core_history(app: EngageApplication, where: Where, updates: list[Update]
                 ) -> list[tuple[Any, ...]]:  # fmt: skip
    """A subscription's replay as the core answers it: the application's channel history, or
    the core's group replay against the application's channel updates."""
    channel, key, group = where
    contact = ContactKey.parse(channel, key)
    if group is None:
        return [_core_replay(u, v) for u, v in app.subscription(contact, groups=()).history]
    found = app.channel_subscription(contact)
    channel_updates = found.updates if found is not None else ()
    return [_core_replay(u, v) for u, v in replay_group(updates, channel_updates)]


def core_state(app: EngageApplication, where: Where, at: datetime | None) -> SubscriptionState:
    """The state the core's replay of the log gives, as recorded (the view projects the log;
    `app.subscription` also reads a PENDING past its window as none, which no log event says)."""
    channel, key, group = where
    contact = ContactKey.parse(channel, key)
    if group is not None:
        return app.group_subscription(contact, group, as_of=at)
    found = app.channel_subscription(contact)
    if found is None:
        return SubscriptionState()
    return found.as_of(at) if at is not None else found.current


def _assert_kept_as_recorded(where: Where, history: list[dict[str, Any]],
                             events: list[Recorded]) -> None:  # fmt: skip
    """What each arrival recorded stays as it was recorded, whatever the replay makes of it."""
    by_version = {row["version"]: row for row in history}
    for event in events:
        row = by_version[event.originator_version]
        error = None if event.error is None else event.error.value
        assert (row["recorded_outcome"], row["recorded_error"]) == (event.outcome.value, error), (
            where, event.originator_version,
        )  # fmt: skip


def _assert_as_of(app: EngageApplication, view: SubscriptionView, where: Where,
                  updates: list[Update]) -> None:  # fmt: skip
    """`as_of` at every effective time recorded, and a microsecond either side of it."""
    channel, key, group = where
    times = {u.provenance.effective_at for u in updates}
    for moment in sorted({t + d for t in times for d in (-TICK, timedelta(0), TICK)}):
        expected = core_state(app, where, moment)
        assert view.as_of(channel, key, group, at=moment) == expected, (where, moment)


def assert_answers_as_the_core(app: EngageApplication, view: SubscriptionView) -> None:
    subscriptions = recorded(app)
    assert subscriptions, "the workload records consent"
    for where, events in subscriptions.items():
        channel, key, group = where
        assert view.current(channel, key, group) == core_state(app, where, None), where
        history = view.history(channel, key, group)
        updates = [event.update for event in events]
        assert [_row_replay(r) for r in history] == core_history(app, where, updates), where
        _assert_kept_as_recorded(where, history, events)
        _assert_as_of(app, view, where, updates)


def test_the_view_answers_what_the_core_answers_live_and_rebuilt(
    view_backend: ViewBackend,
) -> None:
    @examples(view_backend, WORKLOADS, postgresql=3)
    @given(seed=st.integers(0, 2**32 - 1), live_page=st.integers(1, 20),
           rebuild_page=st.integers(1, 40))  # fmt: skip
    def answers_as_the_core(seed: int, live_page: int, rebuild_page: int) -> None:
        app = memory_app()
        try:
            with view_backend.fresh_database() as database:
                view = SubscriptionView(database)
                for batch in workload(seed, messages=8, changes=40, people=2):
                    apply(app, batch)
                    catch_up(app, [view], page=live_page)
                assert_answers_as_the_core(app, view)  # live
                live = rows(view)
                rebuild(app, [view], page=rebuild_page)
                assert rows(view) == live
                assert_answers_as_the_core(app, view)  # rebuilt
        finally:
            app.close()

    answers_as_the_core()
