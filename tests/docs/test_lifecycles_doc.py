"""docs/lifecycles.md shows exactly the diagrams and tables the Machines generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage_core import Channel
from engage_core.lifecycles.reference import refresh

DOC = Path(__file__).parents[2] / "docs" / "lifecycles.md"


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_every_channel_has_its_diagram_and_table(channel: Channel) -> None:
    text = DOC.read_text()
    assert f"<!-- diagram: {channel.value} -->" in text
    assert f"<!-- table: {channel.value} -->" in text


def test_documented_diagrams_and_tables_match_the_machines() -> None:
    text = DOC.read_text()
    assert refresh(text) == text, "docs/lifecycles.md is out of date: run `make docs`"


def test_refresh_notices_a_stale_diagram() -> None:
    stale = DOC.read_text().replace("sending --> sent", "sending --> nowhere", 1)
    assert refresh(stale) != stale
