"""A deliverer beside another process that keeps the same views file busy (ingest and catch-up,
page after page): every run of `deliver` completes. SQLite refuses at once ("database is
locked") a transaction that read before another process committed and then tries to write, so
every transaction that moves a cursor must hold the write lock from its first statement."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from adapters.destinations import JsonlDestination, Ledger, RetryPolicy, deliver
from adapters.stores import open_application
from adapters.views import Views, catch_up
from engage_core import Observation, Send


def keep_busy(folder: str, seconds: float) -> int:
    """Ingest one message at a time and catch every view up a page at a time."""
    app = open_application(f"sqlite:///{folder}/engage.db")
    views = Views(f"{folder}/engage.views.db")
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        sid = f"SM{n}"
        n += 1
        app.observe([
            Send.create("sms", "twilio", sid, to="+12135618345"),
            Observation.create("sms", "twilio", sid, "delivered", event_id=f"d{n}"),
        ])  # fmt: skip
        catch_up(app, list(views.by_name.values()), page=1)
    views.close()
    app.close()
    return n


def test_deliver_runs_complete_while_another_process_writes(tmp_path: Path) -> None:
    views = Views(str(tmp_path / "engage.views.db"))
    ledger = Ledger(views.datastore)
    destination = JsonlDestination("file", tmp_path / "out.jsonl")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        writer = pool.apply_async(keep_busy, (str(tmp_path), 4.0))
        time.sleep(1.0)  # the writer is under way
        runs = 0
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            deliver(destination, views.outbox, ledger, RetryPolicy())  # raises if refused
            runs += 1
        written = writer.get(30)
    assert runs > 10
    assert written > 10
    views.close()
