"""Bulk commands raise the collector's young threshold and always give it back."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from engage_core import EngageApplication, Observation
from engage_core.collector import BULK_YOUNG_THRESHOLD, bulk_allocation


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[None]:
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)
    gc.enable()
    yield
    gc.set_threshold(*before)
    if not enabled:
        gc.disable()


def _failing_command() -> None:
    with bulk_allocation():
        assert gc.get_threshold() == (BULK_YOUNG_THRESHOLD, 10, 10)
        with bulk_allocation():  # nested: one raise
            assert gc.get_threshold()[0] == BULK_YOUNG_THRESHOLD
        assert gc.get_threshold()[0] == BULK_YOUNG_THRESHOLD
        raise RuntimeError


def test_raised_inside_restored_after_even_on_error() -> None:
    with pytest.raises(RuntimeError):
        _failing_command()
    assert gc.get_threshold() == (700, 10, 10)


def test_concurrent_commands_restore_once_the_last_ends() -> None:
    inside, release = threading.Barrier(3), threading.Event()

    def command() -> None:
        with bulk_allocation():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=command) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert gc.get_threshold()[0] == BULK_YOUNG_THRESHOLD
    release.set()
    for thread in threads:
        thread.join()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_process_s_own_settings_are_left_alone() -> None:
    gc.set_threshold(200_000, 10, 10)
    with bulk_allocation():
        assert gc.get_threshold()[0] == 200_000
    gc.set_threshold(700, 10, 10)
    gc.disable()
    with bulk_allocation():
        assert gc.get_threshold()[0] == 700
    gc.enable()
    with bulk_allocation():
        gc.set_threshold(1_000, 10, 10)  # changed by someone else meanwhile: theirs stands
    assert gc.get_threshold()[0] == 1_000


def test_a_bulk_observe_runs_raised_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    app = EngageApplication()
    seen: list[int] = []
    original = app.save

    def save(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold()[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(app, "save", save)
    many = [Observation.create("sms", "twilio", f"SM{i}", "sent") for i in range(150)]
    app.observe(many)
    app.observe(many[:1])
    assert seen == [BULK_YOUNG_THRESHOLD, 700]
    assert gc.get_threshold() == (700, 10, 10)
