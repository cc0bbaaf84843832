"""What the consent import's speed-ups promise besides speed: nothing else changes."""

from __future__ import annotations

import gc
import io

from adapters.imports.subscriptions_csv import import_subscriptions
from engage_core import EngageApplication
from engage_core.collector import BULK_YOUNG_THRESHOLD
from engage_core.counts import Counts


def test_an_import_collects_young_objects_less_often_and_restores_the_threshold(
    sqlite_app: EngageApplication,
) -> None:
    """A file's batches keep their states alive until saved: while it is read the collector's
    young generation is collected every `BULK_YOUNG_THRESHOLD` allocations (the process-wide
    raise every bulk command shares), and the process's own threshold is back afterwards."""
    seen: list[tuple[int, int, int]] = []

    def batch_done(_: Counts) -> None:
        seen.append(gc.get_threshold())

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        rows = "".join(f"user{n}@example.com,subscribed\n" for n in range(5))
        counts = import_subscriptions(
            sqlite_app,
            io.StringIO("email,email_subscription_status\n" + rows),
            source="test",
            on_batch=batch_done,
            rows_per_batch=2,
        )
        assert counts.applied == 5
        assert seen
        assert all(t == (BULK_YOUNG_THRESHOLD, 10, 10) for t in seen)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
