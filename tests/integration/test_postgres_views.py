"""Views in PostgreSQL are the views in SQLite: the same drawn workload (tests/views/workload.py,
with odd characters such as NUL in the texts users choose), kept live batch after batch in
each view database with pages of different sizes, gives every view the same digest (the same
rows in the same order); and rebuilding the PostgreSQL views from position 0 gives their live
rows back. So `engage digest` can compare a host on SQLite with one on PostgreSQL, and moving a
store between them changes no view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import Views, catch_up, rebuild
from tests.postgres_server import fresh_database
from tests.views.backends import ViewBackend
from tests.views.conftest import memory_app, rows
from tests.views.workload import apply, workload

pages = st.integers(1, 40)
# a whole workload through four views in both databases, then a rebuild in PostgreSQL: about
# a second an example there, so a tenth of the profile's examples (10 by default)
EXAMPLES = settings(max_examples=max(10, settings().max_examples // 10))


@pytest.fixture(scope="module")
def postgres(postgres_superuser_url: str) -> Iterator[ViewBackend]:
    """PostgreSQL views, a fresh schema an example, in one database of their own."""
    backend = ViewBackend("postgresql", fresh_database(postgres_superuser_url))
    yield backend
    backend.close()


@EXAMPLES
@given(
    seed=st.integers(0, 2**32 - 1),
    odd=st.booleans(),
    sqlite_page=pages,
    postgres_page=pages,
    rebuild_page=pages,
)
def test_the_same_workload_gives_the_same_views_in_sqlite_and_postgresql(
    postgres: ViewBackend, seed: int, odd: bool, sqlite_page: int, postgres_page: int,
    rebuild_page: int,
) -> None:  # fmt: skip
    app = memory_app()
    sqlite = Views(":memory:")
    try:
        with postgres.fresh_views() as postgresql:
            kept = {sqlite: sqlite_page, postgresql: postgres_page}
            for batch in workload(seed, messages=15, changes=15, odd=odd):
                apply(app, batch)
                for views, page in kept.items():
                    catch_up(app, list(views.by_name.values()), page=page)
            last = app.recorder.max_notification_id()
            expected = {name: view.digest() for name, view in sqlite.by_name.items()}
            assert all(count > 0 for count, _ in expected.values()), "every view has rows"
            live = {name: view.digest() for name, view in postgresql.by_name.items()}
            assert live == expected
            live_rows = {name: rows(view) for name, view in postgresql.by_name.items()}
            assert live_rows == {name: rows(view) for name, view in sqlite.by_name.items()}

            chosen = list(postgresql.by_name.values())
            rebuild(app, chosen, page=rebuild_page)
            assert {view.name: view.digest() for view in chosen} == expected
            assert {view.name: rows(view) for view in chosen} == live_rows
            assert {view.name: view.position() for view in chosen} == dict.fromkeys(expected, last)
    finally:
        sqlite.close()
        app.close()
