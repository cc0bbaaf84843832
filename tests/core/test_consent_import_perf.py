"""What the consent import's speed-ups promise besides speed: nothing else changes."""

from __future__ import annotations

import gc

from adapters.imports.subscriptions_csv import BULK_GC_THRESHOLD, fewer_collections


def test_fewer_collections_raises_the_threshold_and_restores_it() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (BULK_GC_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_fewer_collections_never_lowers_it_nor_switches_a_collector_on() -> None:
    before = gc.get_threshold()
    try:
        for threshold in (0, BULK_GC_THRESHOLD * 2):
            gc.set_threshold(threshold, 10, 10)
            with fewer_collections():
                assert gc.get_threshold() == (threshold, 10, 10)
            assert gc.get_threshold() == (threshold, 10, 10)
    finally:
        gc.set_threshold(*before)
