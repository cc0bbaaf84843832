"""Rebuild equals live (ARCHITECTURE.md invariant 5): every view kept live, batch after batch,
equals the same view rebuilt from position 0, row for row; and a rebuild interrupted anywhere,
between pages or in the middle of one, resumes to the same rows (tracking is exactly once).
On both view databases (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import VIEW_CLASSES, View, Views, catch_up, rebuild
from engage_core import EngageApplication
from tests.views.backends import ViewBackend, examples
from tests.views.conftest import memory_app, rows
from tests.views.workload import apply, workload

seeds = st.integers(0, 2**32 - 1)
pages = st.integers(1, 40)
# Each example is a whole workload through the application and four views: a quarter of the
# profile's examples (25 by default, 750 with HYPOTHESIS_PROFILE=slow).
WORKLOADS = settings(max_examples=max(25, settings().max_examples // 4))


@contextmanager
def live_views(
    backend: ViewBackend, seed: int, page: int
) -> Iterator[tuple[EngageApplication, Views, list[View]]]:
    """An application fed a workload in batches, its views caught up after each batch."""
    app = memory_app()
    try:
        with backend.fresh_views() as views:
            chosen = list(views.by_name.values())
            for batch in workload(seed, messages=15, changes=15):
                apply(app, batch)
                catch_up(app, chosen, page=page)
            yield app, views, chosen
    finally:
        app.close()


def test_every_view_is_registered() -> None:
    assert set(VIEW_CLASSES) == {"outbox", "message_status", "subscriptions", "funnel"}
    for cls in VIEW_CLASSES.values():
        assert set(cls.order_by) == set(cls.schema), cls.name


def test_rebuild_equals_live(view_backend: ViewBackend) -> None:
    # fewer in PostgreSQL: tests/integration/test_postgres_views.py rebuilds more workloads there
    @examples(view_backend, WORKLOADS, postgresql=3)
    @given(seed=seeds, live_page=pages, rebuild_page=pages)
    def rebuild_equals_live(seed: int, live_page: int, rebuild_page: int) -> None:
        with live_views(view_backend, seed, live_page) as (app, _, chosen):
            live = {view.name: (rows(view), view.digest(), view.position()) for view in chosen}
            assert all(digest[0] > 0 for _, digest, _ in live.values()), "every view has rows"
            rebuild(app, chosen, page=rebuild_page)
            for view in chosen:
                assert (rows(view), view.digest(), view.position()) == live[view.name], view.name

    rebuild_equals_live()


class Interrupted(Exception):
    pass


def _between_pages(after: int) -> Callable[[int, int], None]:
    pages_done = 0

    def progress(position: int, last: int) -> None:
        nonlocal pages_done
        pages_done += 1
        if pages_done >= after:
            raise Interrupted

    return progress


def test_an_interrupted_rebuild_resumes_to_the_same_rows(view_backend: ViewBackend) -> None:
    @examples(view_backend, WORKLOADS, postgresql=3)
    @given(seed=seeds, page=pages, after=st.integers(1, 40), inside=st.booleans(),
           victim=st.sampled_from(sorted(VIEW_CLASSES)))  # fmt: skip
    def resumes(seed: int, page: int, after: int, inside: bool, victim: str) -> None:
        with live_views(view_backend, seed, page) as (app, views, chosen):
            live = {view.name: rows(view) for view in chosen}
            target = views.by_name[victim]
            applied = 0
            original = target._apply

            def failing(cursor: Any, position: int, event: Any) -> None:
                nonlocal applied
                applied += 1
                if applied >= after:
                    raise Interrupted  # in the middle of a page: its transaction rolls back
                original(cursor, position, event)

            progress = None
            if inside:
                target._apply = failing  # type: ignore[method-assign]
            else:
                progress = _between_pages(1 + after % 3)  # small logs have few pages
            try:
                rebuild(app, chosen, page=page, on_progress=progress)
            except Interrupted:
                pass
            finally:
                if inside:
                    del target._apply  # the class's own again
            catch_up(app, chosen, page=page)
            assert {view.name: rows(view) for view in chosen} == live

    resumes()


def test_catching_up_twice_applies_nothing_twice(app: Any, views: Views) -> None:
    for batch in workload(7, messages=10, changes=10):
        apply(app, batch)
    chosen = list(views.by_name.values())
    assert catch_up(app, chosen) > 0
    before = {view.name: rows(view) for view in chosen}
    assert catch_up(app, chosen) == 0
    for view in chosen:  # the same positions handed over again are skipped
        view.process([(1, object())], after=0)
    assert {view.name: rows(view) for view in chosen} == before


@pytest.mark.parametrize("name", sorted(VIEW_CLASSES))
def test_a_view_rebuilt_alone_leaves_the_others(app: Any, views: Views, name: str) -> None:
    for batch in workload(11, messages=10, changes=10):
        apply(app, batch)
    chosen = list(views.by_name.values())
    catch_up(app, chosen)
    before = {view.name: rows(view) for view in chosen}
    rebuild(app, [views.by_name[name]], page=3)
    assert {view.name: rows(view) for view in chosen} == before
