"""docs/limits.md lists every limit the code has, with its setting and its default as the code
has it, so the page cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage_core.consent.csv_format import CSV_SETTINGS, DEFAULT_CSV_LIMITS
from engage_core.limits import DEFAULT_LIMITS, SETTINGS

DOC = Path(__file__).parents[2] / "docs" / "limits.md"


def _row(setting: str) -> str:
    (row,) = [line for line in DOC.read_text().splitlines()
              if line.startswith("|") and f"`{setting}`" in line]  # fmt: skip
    return row


@pytest.mark.parametrize("field", sorted(SETTINGS))
def test_every_engage_limit_is_in_the_table_with_its_default(field: str) -> None:
    default = getattr(DEFAULT_LIMITS, field)
    row = _row(SETTINGS[field])
    assert str(default) in row.replace(",", ""), (field, default, row)


@pytest.mark.parametrize("field", sorted(CSV_SETTINGS))
def test_every_csv_limit_is_in_the_table_with_its_default(field: str) -> None:
    default = getattr(DEFAULT_CSV_LIMITS, field)
    row = _row(CSV_SETTINGS[field])
    assert str(default) in row.replace(",", ""), (field, default, row)
