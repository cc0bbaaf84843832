"""Views in PostgreSQL kept by several real processes at once: two followers catching the same
views up, page after page, while a third process rebuilds them twice and the store is still
being written to, end with every view equal to a rebuild nobody disturbed (digests), and each
view's build can prove it applied the whole log (`verify`).

What makes any interleaving safe is in the views themselves (adapters/views/base.py): a view's
writers serialise on the view's advisory lock, a page that would leave a gap is refused, and a
page read for a build since dropped is refused (generations); here they are exercised by
separate processes (multiprocessing, spawn) with their own connections, as hosts sharing one
database would be.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from adapters.stores import store_env
from adapters.views import Views, catch_up, rebuild
from adapters.views.runner import verify
from engage_core import EngageApplication
from tests.conftest import FIXED_TIME
from tests.views.workload import apply, workload

SEED = 29
FOLLOWER_PAGE = 3  # small pages: many transactions for the rebuild to fall between
REBUILD_PAGE = 5
REBUILDS = 2
FOLLOWED = 20  # the log position every view has reached when the rebuilds start


def _app(url: str) -> EngageApplication:
    return EngageApplication(env=store_env(url), clock=lambda: FIXED_TIME)


def _follow(url: str, start: Any, done: Any, results: Any) -> None:
    """A follower: catch every view up, again and again, until told the writing and the
    rebuilds are over; then once more, to the end of the log. Reports the builds it saw."""
    app, views = _app(url), Views(url)
    chosen = list(views.by_name.values())
    start.wait(timeout=60)
    builds = {view.generation() for view in chosen}
    while True:
        finished = done.is_set()
        catch_up(app, chosen, page=FOLLOWER_PAGE)
        builds.update(view.generation() for view in chosen)
        if finished:
            break
    results.put(("follower", len(builds)))
    views.close()
    app.close()


def _rebuild(url: str, start: Any, results: Any) -> None:
    """The rebuilder: once the followers are under way (every view past `FOLLOWED`), rebuild
    every view, `REBUILDS` times (each one checks itself)."""
    app, views = _app(url), Views(url)
    chosen = list(views.by_name.values())
    start.wait(timeout=60)
    while min(view.position() for view in chosen) < FOLLOWED:
        time.sleep(0.01)
    for _ in range(REBUILDS):
        rebuild(app, chosen, page=REBUILD_PAGE)
    results.put(("rebuilder", REBUILDS))
    views.close()
    app.close()


def test_two_followers_and_a_rebuild_in_other_processes_end_as_a_quiet_rebuild(
    postgres_url: str,
) -> None:
    batches = workload(SEED, messages=24, changes=20)
    half = len(batches) // 2
    app = _app(postgres_url)
    for batch in batches[:half]:
        apply(app, batch)
    context = multiprocessing.get_context("spawn")
    start, done, results = context.Barrier(4), context.Event(), context.Queue()
    workers = [
        context.Process(target=_follow, args=(postgres_url, start, done, results)),
        context.Process(target=_follow, args=(postgres_url, start, done, results)),
        context.Process(target=_rebuild, args=(postgres_url, start, results)),
    ]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=60)
        for batch in batches[half:]:  # the store is written while they work
            apply(app, batch)
        rebuilt = results.get(timeout=120)
        assert rebuilt == ("rebuilder", REBUILDS)
        done.set()
        followed = [results.get(timeout=120) for _ in range(2)]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
    # each follower saw more than one build: the rebuilds happened while it followed
    assert all(kind == "follower" and builds > 1 for kind, builds in followed), followed

    shared = Views(postgres_url)
    quiet = Views(f"{postgres_url}?schema=quiet")  # views of their own: `quiet_views`
    try:
        everything = list(shared.by_name.values())
        last = app.recorder.max_notification_id()
        assert {view.name: view.position() for view in everything} == dict.fromkeys(
            shared.by_name, last
        )  # the followers' last catch-up reached the end of the log
        verify(app, everything)
        rebuild(app, list(quiet.by_name.values()))
        expected = {name: view.digest() for name, view in quiet.by_name.items()}
        assert all(count > 0 for count, _ in expected.values())
        assert {view.name: view.digest() for view in everything} == expected
    finally:
        shared.close()
        quiet.close()
        app.close()
