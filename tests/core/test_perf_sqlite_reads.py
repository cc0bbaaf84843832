"""The batching SQLite recorder reads a batch's aggregates through `json_each` (one statement
that never changes, so it stays prepared); a SQLite without JSON functions gets the `VALUES`
form. Both give the same events for any versions asked after."""

from __future__ import annotations

import tempfile
from pathlib import Path
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.stores.sqlite import BatchingSQLiteApplicationRecorder
from engage_core import EngageApplication
from engage_core.simulation import simulate
from tests.conftest import FIXED_TIME, sqlite_env

_DIRECTORY = Path(tempfile.mkdtemp(prefix="engage-perf-reads-"))
_APP = EngageApplication(env=sqlite_env(_DIRECTORY / "e.db"), clock=lambda: FIXED_TIME)
_INPUTS = list(simulate(seed=5, messages=40).inputs)
_APP.observe(_INPUTS)
_IDS = [*dict.fromkeys(item.message_id for item in _INPUTS), UUID(int=0), UUID(int=1)]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(_IDS), st.integers(0, 6), max_size=len(_IDS)))
def test_json_each_and_values_read_the_same(since: dict[UUID, int]) -> None:
    recorder = _APP.recorder
    assert isinstance(recorder, BatchingSQLiteApplicationRecorder)
    by_json = recorder.select_events_of_many(since)
    assert recorder._json_each  # this SQLite has json_each: the JSON form was the one read
    recorder._json_each = False
    try:
        by_values = recorder.select_events_of_many(since)
    finally:
        del recorder._json_each
    assert by_json == by_values
    for key, after in since.items():
        assert by_json.get(key, []) == recorder.select_events(key, gt=after or None)
