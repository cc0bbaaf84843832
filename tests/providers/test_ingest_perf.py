"""A request of a batch's size is parsed and applied with the collector's young threshold
raised (`engage_core.collector.bulk_allocation`), and the threshold is back afterwards; a single
report is left at the process's own."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from adapters.providers.base import InboundRequest, Parsed
from adapters.providers.ingest import BULK_BODY_BYTES, ingest
from adapters.stores import open_application
from engage_core.collector import BULK_YOUNG_THRESHOLD


class _Recording:
    """An adapter that notes the young threshold while it parses, and maps nothing."""

    name = "recording"

    def __init__(self) -> None:
        self.thresholds: list[int] = []

    def verify(self, request: InboundRequest, **_: object) -> None:
        return None

    def parse(self, request: InboundRequest) -> Parsed:
        self.thresholds.append(gc.get_threshold()[0])
        return Parsed(received=0)


@pytest.mark.parametrize(
    ("size", "raised"), [(BULK_BODY_BYTES, True), (BULK_BODY_BYTES - 1, False), (200, False)]
)
def test_a_batch_sized_body_is_parsed_with_fewer_young_collections(
    tmp_path: Path, size: int, raised: bool
) -> None:
    before = gc.get_threshold()
    if not (gc.isenabled() and before[0] < BULK_YOUNG_THRESHOLD):
        pytest.skip("the process runs its own collector settings, which are left alone")
    app = open_application(f"sqlite:///{tmp_path / 'engage.db'}")
    adapter = _Recording()
    ingest(app, adapter, InboundRequest(b" " * size))
    assert adapter.thresholds == [BULK_YOUNG_THRESHOLD if raised else before[0]]
    assert gc.get_threshold() == before
