"""The views read stored events from their JSON (`adapters.views.records`), not from typed events:
for generated logs, with reports rewritten as their older stored versions (`Observed` v1, before
`claimed_at`; v2, before typed facts, read from `details` by the upcaster), the fast reading
equals the typed one:
- each record structures to the event the application's mapper gives for the same row;
- what the status and funnel views read of a report (its channel, times, the statuses it
  proves) equals what they read of the typed report;
- every row the outbox's fast path publishes for a report is byte for byte the typed
  publisher's (`publisher.publish` and `TrackEvent.as_segment`), with the same memory after;
- every view kept from the records equals the same view kept from the typed events, row for
  row, on both view databases.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import Notification
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.stores import store_env
from adapters.views import Views, catch_up
from adapters.views.message_facts import OBSERVED, channel_of, instant_of, reached
from adapters.views.publishing import observed_rows
from adapters.views.records import Record, decode, read_page
from adapters.views.status import MILESTONES, _milestones, instant, proved_by
from engage_core import EngageApplication
from engage_core.segment import EventSettings
from engage_core.segment.publisher import NOTHING_PUBLISHED, Published, publish
from engage_core.serialisation import UnreadableEventError
from tests.views.backends import ViewBackend, examples
from tests.views.conftest import memory_app, rows
from tests.views.workload import apply, workload

SETTINGS = EventSettings(library_version="1.2.3")
LEGACY = EventSettings(legacy_group_unsubscribed_spelling=True)
WORKLOADS = settings(max_examples=max(20, settings().max_examples // 5))
Stored = tuple[int, Notification]


def _older(state: bytes, version: int) -> bytes:
    """A v3 report as the earlier code stored it: v2 had no facts, v1 no `claimed_at` either."""
    data = orjson.loads(state)
    data.pop("facts", None)
    data.pop("class_version", None)
    if version == 1:
        data.pop("claimed_at", None)
    else:
        data["class_version"] = 2
    return orjson.dumps(data)


def stored_log(app: EngageApplication, versions: list[int]) -> list[Stored]:
    """The application's log, each report stored at the version `versions` picks for it (3:
    as written; cycled through the list)."""
    recorder: Any = app.recorder
    found: list[Stored] = []
    for index, n in enumerate(recorder.select_notifications(0, 1_000_000)):
        version = versions[index % len(versions)] if versions else 3
        state = _older(n.state, version) if n.topic == OBSERVED and version < 3 else n.state
        found.append((n.id, Notification(id=n.id, originator_id=n.originator_id, topic=n.topic,
                                          originator_version=n.originator_version,
                                          state=state)))  # fmt: skip
    return found


def _record(app: EngageApplication, n: Notification) -> Record:
    return decode(n.topic, UUID(str(n.originator_id)).hex, n.originator_version, n.state,
                  app.mapper)  # fmt: skip


def _run(seed: int) -> EngageApplication:
    app = memory_app()
    for batch in workload(seed, messages=12, changes=12):
        apply(app, batch)
    return app


versions = st.lists(st.sampled_from([1, 2, 3]), max_size=7)


@settings(WORKLOADS)
@given(seed=st.integers(0, 2**32 - 1), picked=versions, legacy=st.booleans())
def test_the_fast_reading_of_each_event_equals_the_typed_one(
    seed: int, picked: list[int], legacy: bool
) -> None:
    chosen = LEGACY if legacy else SETTINGS
    app = _run(seed)
    try:
        memories: dict[str, Published] = {}
        published = 0
        for _, n in stored_log(app, picked):
            record = _record(app, n)
            typed: Any = app.mapper.to_domain_event(n)
            assert record.event() == typed
            assert (record.key, record.version) == (str(typed.originator_id), n.originator_version)
            if n.topic != OBSERVED:
                continue
            state = record.state
            channel = channel_of(state["channel"])
            at, proved = proved_by(typed)
            assert channel is typed.channel
            assert reached(channel, state["status"], state["inferred"]) == proved
            assert instant_of(state["occurred_at"] or state["recorded_at"]) == instant(at)
            assert instant_of(state["recorded_at"]) == instant(typed.recorded_at)
            assert _milestones(channel, state["status"], state["inferred"]) == tuple(
                f"{m}_at" for m, kind in MILESTONES.items() if kind in proved
            )
            before = memories.get(record.hex, NOTHING_PUBLISHED)
            fast_memory, fast_rows = observed_rows(before, record, chosen)
            typed_memory, tracks = publish(before, typed, chosen)
            assert fast_rows == [
                (t.message_id, t.event, orjson.dumps(t.as_segment())) for t in tracks
            ]
            assert fast_memory == typed_memory
            memories[record.hex] = typed_memory
            published += len(tracks)
        assert published, "the workload publishes reports"
    finally:
        app.close()


def test_the_records_read_from_a_sqlite_store_equal_the_recorders(tmp_path: Any) -> None:
    """`read_page` reads a SQLite store with its own statement: the same events, in the same
    order, as the recorder's notifications decoded."""
    app = EngageApplication(env=store_env(f"sqlite:///{tmp_path / 'engage.db'}"))
    try:
        for batch in workload(5, messages=10, changes=10):
            apply(app, batch)
        last = app.recorder.max_notification_id() or 0
        recorder: Any = app.recorder
        for start, stop in ((0, last), (3, last - 2), (last, last)):
            fast = read_page(app, start, 7, stop)
            expected = recorder.select_notifications(start, 7, stop=stop,
                                                     inclusive_of_start=False)  # fmt: skip
            assert [p for p, _ in fast] == [n.id for n in expected]
            for (_, record), n in zip(fast, expected, strict=True):
                assert record.event() == app.mapper.to_domain_event(n)
    finally:
        app.close()


def test_views_kept_from_records_equal_views_kept_from_typed_events(
    view_backend: ViewBackend,
) -> None:
    @examples(view_backend, WORKLOADS)
    @given(seed=st.integers(0, 2**32 - 1), picked=versions, page=st.integers(1, 40))
    def equal(seed: int, picked: list[int], page: int) -> None:
        app = _run(seed)
        try:
            log = stored_log(app, picked)
            with view_backend.fresh() as backend:
                fast, typed = backend.views(), backend.views()
                for start in range(0, len(log), page):
                    chunk = log[start : start + page]
                    after = log[start - 1][0] if start else 0
                    for view in fast.by_name.values():
                        view.process([(p, _record(app, n)) for p, n in chunk], after=after)
                    for view in typed.by_name.values():
                        view.process([(p, app.mapper.to_domain_event(n)) for p, n in chunk],
                                     after=after)  # fmt: skip
                for name, view in fast.by_name.items():
                    assert rows(view) == rows(typed.by_name[name]), name
                # and the runner's own reading of the store gives the same views
                if not picked or set(picked) == {3}:
                    again = backend.views()
                    catch_up(app, list(again.by_name.values()), page=page)
                    for name, view in again.by_name.items():
                        assert rows(view) == rows(fast.by_name[name]), name
        finally:
            app.close()

    equal()


def test_a_stored_report_its_class_cannot_read_is_named_as_the_mapper_names_it(
    tmp_path: Any,
) -> None:
    """A report whose JSON lacks what its class needs stops the views with the mapper's
    `UnreadableEventError` (what `engage` reports as a store error), as before the views
    read the JSON themselves, and nothing of its page is applied."""
    store = tmp_path / "engage.db"
    app = EngageApplication(env=store_env(f"sqlite:///{store}"))
    views = Views(str(tmp_path / "engage.views.db"))
    try:
        for batch in workload(9, messages=5, changes=0):
            apply(app, batch)
        with sqlite3.connect(store) as connection:
            connection.execute(
                "INSERT INTO stored_events VALUES (?, 1, ?, ?)",
                ("0" * 31 + "1", OBSERVED, b'{"channel":"sms","class_version":3}'),
            )
        chosen = list(views.by_name.values())
        with pytest.raises(UnreadableEventError):
            catch_up(app, chosen, page=100_000)
        assert all(view.position() == 0 for view in chosen)
    finally:
        views.close()
        app.close()
