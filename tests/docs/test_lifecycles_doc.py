"""docs/lifecycles.md shows exactly the diagrams the Machines generate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engage_core import Channel
from engage_core.lifecycles.diagram import mermaid
from engage_core.lifecycles.reference import status_table

DOC = Path(__file__).parents[2] / "docs" / "lifecycles.md"


def documented_diagrams() -> dict[str, str]:
    text = DOC.read_text()
    blocks = re.findall(r"<!-- diagram: (\w+) -->\n```mermaid\n(.*?)```", text, flags=re.S)
    return dict(blocks)


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_documented_diagram_matches_the_machine(channel: Channel) -> None:
    documented = documented_diagrams()
    assert channel.value in documented, f"docs/lifecycles.md has no {channel.value} diagram"
    assert documented[channel.value] == mermaid(channel), (
        f"docs/lifecycles.md is out of date: regenerate with `engage diagram {channel.value}`"
    )


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_documented_table_matches_the_machine(channel: Channel) -> None:
    tables = dict(
        re.findall(r"<!-- table: (\w+) -->\n(.*?)<!-- end table -->", DOC.read_text(), re.S)
    )
    assert tables.get(channel.value) == status_table(channel), (
        "docs/lifecycles.md status table is out of date"
    )
