"""The batching SQLite recorder agrees with eventsourcing's own, row for row and id for id."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from adapters.stores.sqlite import BatchingSQLiteApplicationRecorder
from engage_core import EngageApplication, Observation
from engage_core.simulation import simulate
from tests.conftest import FIXED_TIME, record_saves, sqlite_env, stock_sqlite_env


def test_notification_ids_are_the_rowids_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = EngageApplication(env=sqlite_env(tmp_path / "e.db"), clock=lambda: FIXED_TIME)
    assert isinstance(app.recorder, BatchingSQLiteApplicationRecorder)
    inputs = list(simulate(seed=3, messages=80).inputs)
    saves = record_saves(app, monkeypatch)
    for start in range(0, len(inputs), 37):  # uneven batches
        app.observe(inputs[start : start + 37])
    stored = app.recorder.select_notifications(start=1, limit=100_000)
    returned = [r.notification.id for recordings in saves for r in recordings]
    assert returned == [n.id for n in stored]
    message_rows = [n for n in stored if n.topic.startswith("engage.message.")]
    assert len(message_rows) == len(inputs)  # one per input; consent rows come on top
    app.close()


def test_same_states_as_the_stock_recorder(tmp_path: Path) -> None:
    inputs = list(simulate(seed=4, messages=60).inputs)
    batching = EngageApplication(env=sqlite_env(tmp_path / "a.db"), clock=lambda: FIXED_TIME)
    stock = EngageApplication(env=stock_sqlite_env(tmp_path / "b.db"), clock=lambda: FIXED_TIME)
    assert not isinstance(stock.recorder, BatchingSQLiteApplicationRecorder)
    assert batching.observe(inputs) == stock.observe(inputs)
    ids = list(dict.fromkeys(item.message_id for item in inputs))
    for message_id in ids:
        assert batching.message(message_id) == stock.message(message_id)
    since = dict.fromkeys([*ids, UUID(int=0)], 0)
    recorder = batching.recorder
    assert isinstance(recorder, BatchingSQLiteApplicationRecorder)
    many = recorder.select_events_of_many(since)
    assert UUID(int=0) not in many
    for message_id in ids:
        assert many[message_id] == batching.recorder.select_events(message_id)
    later = recorder.select_events_of_many(dict.fromkeys(ids, 1))
    for message_id in ids:
        assert later.get(message_id, []) == batching.recorder.select_events(message_id, gt=1)
    batching.close()
    stock.close()


def test_more_ids_than_one_query_takes(tmp_path: Path) -> None:
    app = EngageApplication(env=sqlite_env(tmp_path / "e.db"))
    observations = [
        Observation.create("email", "sendgrid", f"m{i}", "processed", event_id=str(i))
        for i in range(1_234)
    ]
    assert app.observe(observations).applied == 1_234
    assert app.observe(observations).duplicates == 1_234  # all 1,234 were found again
    app.close()
