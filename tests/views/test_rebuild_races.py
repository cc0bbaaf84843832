"""Views kept by several processes at once (ARCHITECTURE.md invariant 7): any interleaving of
catch-ups, drops and rebuilds, by any number of readers of one view database, ends with every
view equal to a quiet rebuild of the same log, row for row; a rebuild proves it applied the
whole log.

Each "process" here is its own `Views` on the same view database (a SQLite file, or one
PostgreSQL views schema: its own connections and its own between-page memory), interleaved
deterministically at page boundaries; the fault-injection suite (tests/faults) does the same
with real processes killed at random points, and tests/integration/test_postgres_views_processes.py
with real processes on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import View, catch_up, rebuild
from adapters.views.base import RebuildIncomplete, ViewGap, ViewRebuilt
from adapters.views.runner import verify
from tests.views.backends import ViewBackend, examples
from tests.views.conftest import memory_app
from tests.views.workload import apply, workload

WORKLOADS = settings(max_examples=max(20, settings().max_examples // 5))


def filled_app(seed: int) -> Any:
    app = memory_app()
    for batch in workload(seed, messages=12, changes=12):
        apply(app, batch)
    return app


def quiet(app: Any, backend: ViewBackend) -> dict[str, tuple[int, str]]:
    """Every view's digest after a rebuild nobody disturbs."""
    with backend.fresh_views() as views:
        chosen = list(views.by_name.values())
        rebuild(app, chosen)
        return {view.name: view.digest() for view in chosen}


def test_a_catch_up_page_after_a_drop_is_refused_not_applied(view_backend: ViewBackend) -> None:
    """The race that lost outbox events: a follower catching up page by page from an empty
    view, and a rebuild dropping the view in the middle. The follower's next page would start
    past the dropped view's position: it is refused and the follower restarts from 0."""
    app = filled_app(3)
    location = view_backend.location(shared=True)
    follower, rebuilder = view_backend.views(location), view_backend.views(location)
    pages = 0

    def drop_once(position: int, last: int) -> None:
        nonlocal pages
        pages += 1
        if pages == 3:
            rebuilder.outbox.drop()  # the rebuild's first step, between two follower pages

    catch_up(app, [follower.outbox], page=20, on_progress=drop_once)
    verify(app, [rebuilder.outbox])  # the new build holds every event of the log
    assert rebuilder.outbox.digest() == quiet(app, view_backend)["outbox"]


def test_a_page_with_a_gap_or_from_an_old_build_is_refused(view_backend: ViewBackend) -> None:
    app = filled_app(5)
    outbox = view_backend.views().outbox
    notes = app.recorder.select_notifications(0, 30, inclusive_of_start=False)
    events = [(n.id, app.mapper.to_domain_event(n)) for n in notes]
    old = outbox.build()
    with pytest.raises(ViewGap):
        outbox.process(events[10:], after=events[9][0], generation=old.generation)
    assert outbox.position() == 0
    assert outbox.digest()[0] == 0
    outbox.process(events[:10], after=0, generation=old.generation)
    outbox.drop()
    with pytest.raises(ViewRebuilt):
        outbox.process(events[:10], after=0, generation=old.generation)
    assert outbox.position() == 0
    assert outbox.digest()[0] == 0


def test_a_rebuild_that_missed_events_fails_loudly(view_backend: ViewBackend) -> None:
    app = filled_app(9)
    outbox = view_backend.views().outbox
    rebuild(app, [outbox])
    # as if a page had been skipped: the build says it applied fewer than the log holds
    with outbox.datastore.transaction(commit=True) as cursor:
        cursor.execute("UPDATE view_generations SET applied = applied - 1")
    with pytest.raises(RebuildIncomplete, match="run `engage rebuild outbox` again"):
        verify(app, [outbox])


class _Stopped(Exception):
    pass


def stop_after_one(position: int, last: int) -> None:
    raise _Stopped


# What another process does between two pages of the main catch-up.
ACTIONS = ("drop", "rebuild", "catch_up", "catch_up_one", "nothing")


def test_any_interleaving_of_catch_ups_drops_and_rebuilds_equals_a_quiet_rebuild(
    view_backend: ViewBackend,
) -> None:
    @examples(view_backend, WORKLOADS, postgresql=3)  # five sets of views an example
    @given(
        seed=st.integers(0, 2**32 - 1),
        page=st.integers(1, 30),
        schedule=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 2)), max_size=8),
    )
    def interleaved(seed: int, page: int, schedule: list[tuple[str, int]]) -> None:
        app = filled_app(seed)
        with view_backend.fresh() as backend:
            location = backend.location(shared=True)
            others = [backend.views(location) for _ in range(3)]
            main = backend.views(location)
            steps = iter(schedule)

            def act(position: int, last: int) -> None:
                """Between the main process's pages: one scheduled action by another process."""
                action, who = next(steps, ("nothing", 0))
                chosen: list[View] = list(others[who].by_name.values())
                if action == "drop":
                    for view in chosen:
                        view.drop()
                elif action == "rebuild":
                    rebuild(app, chosen, page=page + 3)
                elif action == "catch_up":
                    catch_up(app, chosen, page=page + 1)
                elif action == "catch_up_one":  # one page, then stopped as a killed process stops
                    with contextlib.suppress(_Stopped):
                        catch_up(app, chosen[:1], page=1, on_progress=stop_after_one)

            everything = list(main.by_name.values())
            catch_up(app, everything, page=page, on_progress=act)
            catch_up(app, everything)  # what a drop after the last page left to do
            expected = quiet(app, backend)
            assert {view.name: view.digest() for view in everything} == expected
            verify(app, everything)

    interleaved()


def test_a_build_is_read_whole_while_another_process_applies_pages(
    view_backend: ViewBackend,
) -> None:
    """`verify` beside a follower applying page after page: a build's count of applied events
    and its position are read together, so the check never finds events missing that were
    only applied between two reads (on PostgreSQL each statement sees what is committed when
    it starts: read apart, a page committed between them failed `engage rebuild`)."""
    app = filled_app(13)
    location = view_backend.location(shared=True)
    follower, checker = view_backend.views(location), view_backend.views(location)
    following = threading.Thread(target=catch_up, args=(app, [follower.outbox]),
                                 kwargs={"page": 1})  # fmt: skip
    following.start()
    checks = 0
    try:
        while following.is_alive() or not checks:
            verify(app, [checker.outbox])
            checks += 1
    finally:
        following.join()
    assert checker.outbox.position() == app.recorder.max_notification_id()
    verify(app, [checker.outbox])


def test_a_view_from_before_builds_were_counted_gets_a_build_it_does_not_verify(
    view_backend: ViewBackend,
) -> None:
    """A views database whose view has a position but no build row (made before builds were
    counted): reading its build gives it one, whose count is unknown (None), so `verify`
    does not fail it; its next rebuild counts from 0 again."""
    app = filled_app(17)
    outbox = view_backend.views().outbox
    catch_up(app, [outbox])
    with outbox.datastore.transaction(commit=True) as cursor:
        cursor.execute("DELETE FROM view_generations")
    build = outbox.build()
    assert (build.position, build.applied) == (app.recorder.max_notification_id(), None)
    assert outbox.build() == build  # made once
    verify(app, [outbox])
    rebuild(app, [outbox])
    assert outbox.build().applied == len(app.recorder.select_notifications(0, 10_000))
