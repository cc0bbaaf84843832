"""The outbox publishes what the core's publisher decides, nothing else: folding each message's
events through `publish` in one go equals folding them page by page (whatever the split, the
memory carried between pages as the outbox stores it), and equals the outbox's rows and its
per-message memory after a live run and after a rebuild (with a cache too small to hide a
reload from the table), on both view databases."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any
from uuid import UUID

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import OutboxView, catch_up, rebuild
from engage_core import EngageApplication
from engage_core.message.events import MessageEvent
from engage_core.observations import Send
from engage_core.segment import EventSettings, TrackEvent
from engage_core.segment.publisher import (
    NOTHING_PUBLISHED,
    Published,
    publish,
    publish_all,
    publish_fact,
)
from engage_core.serialisation import converter
from tests.views.backends import ViewBackend, examples
from tests.views.conftest import memory_app, rows
from tests.views.workload import apply, workload

SETTINGS = EventSettings(library_version="1.2.3")
WORKLOADS = settings(max_examples=max(20, settings().max_examples // 5))
Row = tuple[str, str, int, bytes]


class TinyCacheOutbox(OutboxView):
    """Remembers one message between pages: every other one is loaded from its table."""

    settings = SETTINGS
    cache_size = 1


def log(app: EngageApplication) -> list[tuple[int, Any]]:
    recorder: Any = app.recorder
    notifications = recorder.select_notifications(0, 1_000_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in notifications]


def _row(track: TrackEvent, position: int) -> Row:
    return track.message_id, track.event, position, orjson.dumps(track.as_segment())


def _stored(memory: Published) -> Published:
    """The memory as the outbox stores and loads it (a JSON send record, a flag)."""
    if memory.send is None:
        return memory
    send = converter.structure(orjson.loads(orjson.dumps(converter.unstructure(memory.send))),
                               Send)  # fmt: skip
    return Published(send, memory.processed)


def in_one_go(events: list[tuple[int, Any]]) -> tuple[list[Row], dict[UUID, Published]]:
    """Each message's events folded whole by `publish_all`; the rows in log order."""
    by_message: dict[UUID, list[tuple[int, MessageEvent]]] = defaultdict(list)
    found: list[Row] = []
    for position, event in events:
        if isinstance(event, MessageEvent):
            by_message[event.originator_id].append((position, event))
        else:
            found += [_row(t, position) for t in publish_fact(event, SETTINGS)]
    memories: dict[UUID, Published] = {}
    for message, own in by_message.items():
        memories[message], tracks = publish_all([e for _, e in own], SETTINGS)
        # an event's tracks carry its messageId (`engage-<id>-<version>`): back to positions
        at = {f"engage-{e.originator_id.hex}-{e.originator_version}": p for p, e in own}
        found += [_row(t, at["-".join(t.message_id.split("-")[:3])]) for t in tracks]
    return sorted(found, key=lambda row: (row[2], row[0])), memories


def in_pages(
    events: list[tuple[int, Any]], cuts: list[int]
) -> tuple[list[Row], dict[UUID, Published]]:
    """The same events a page at a time, each message's memory stored between pages."""
    memories: dict[UUID, Published] = {}
    found: list[Row] = []
    bounds = [0, *sorted({c % (len(events) + 1) for c in cuts}), len(events)]
    for start, stop in itertools.pairwise(bounds):
        page = dict(memories)  # what this page's transaction works on
        for position, event in events[start:stop]:
            if isinstance(event, MessageEvent):
                before = page.get(event.originator_id, NOTHING_PUBLISHED)
                page[event.originator_id], tracks = publish(before, event, SETTINGS)
            else:
                tracks = publish_fact(event, SETTINGS)
            found += [_row(t, position) for t in tracks]
        memories = {message: _stored(memory) for message, memory in page.items()}
    return found, memories


def held(outbox: OutboxView) -> tuple[list[Row], dict[UUID, Published]]:
    """The outbox's rows (without their positions) and its stored memory per message."""
    tables = rows(outbox)
    found = [(r[1], r[2], r[3], r[4]) for r in tables["outbox"]]
    memories = {
        UUID(hex=r[0]): Published(
            None if r[1] is None else converter.structure(orjson.loads(r[1]), Send), bool(r[2])
        )
        for r in tables["outbox_messages"]
    }
    return found, memories


def remembered(memories: dict[UUID, Published]) -> dict[UUID, Published]:
    """The memories the outbox keeps a row for: those that differ from having seen nothing."""
    return {m: _stored(p) for m, p in memories.items() if p != NOTHING_PUBLISHED}


def test_the_outbox_holds_the_publishers_fold(view_backend: ViewBackend) -> None:
    @examples(view_backend, WORKLOADS)
    @given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.integers(0, 10_000), max_size=12),
           live_page=st.integers(1, 30), rebuild_page=st.integers(1, 30))  # fmt: skip
    def holds_the_fold(seed: int, cuts: list[int], live_page: int, rebuild_page: int) -> None:
        app = memory_app()
        try:
            with view_backend.fresh_database() as database:
                outbox = TinyCacheOutbox(database)
                for batch in workload(seed, messages=12, changes=12):
                    apply(app, batch)
                    catch_up(app, [outbox], page=live_page)
                events = log(app)
                whole_rows, whole_memories = in_one_go(events)
                assert whole_rows, "the workload publishes something"
                paged_rows, paged_memories = in_pages(events, cuts)
                assert paged_rows == whole_rows
                assert paged_memories == {m: _stored(p) for m, p in whole_memories.items()}
                expected = (whole_rows, remembered(whole_memories))
                assert held(outbox) == expected  # live
                rebuild(app, [outbox], page=rebuild_page)
                assert held(outbox) == expected  # rebuilt
        finally:
            app.close()

    holds_the_fold()


def test_a_message_published_in_any_split_publishes_the_same() -> None:
    """Every split of one message's events into two folds equals the whole fold (the memory
    carried across is all a later page needs)."""
    app = memory_app()
    try:
        for batch in workload(3, messages=20, changes=0):
            apply(app, batch)
        by_message: dict[UUID, list[MessageEvent]] = defaultdict(list)
        for _, event in log(app):
            if isinstance(event, MessageEvent):
                by_message[event.originator_id].append(event)
        for own in by_message.values():
            whole = publish_all(own, SETTINGS)
            for cut in range(len(own) + 1):
                memory, first = publish_all(own[:cut], SETTINGS)
                memory, second = publish_all(own[cut:], SETTINGS, _stored(memory))
                assert (memory, first + second) == whole
    finally:
        app.close()
