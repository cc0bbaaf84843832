"""The core and the adapters keep to the shape limits (modules of at most 400 lines, functions
of at most 60 lines and cyclomatic complexity at most 15), measured with radon as `make lint`
prints them: a change that outgrows them fails here rather than in a later review."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shape_report import MAX_COMPLEXITY, offences, offences_in

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("package", ["engage_core", "adapters"])
def test_every_module_and_function_within_the_limits(package: str) -> None:
    found = offences([ROOT / package])
    assert [str(offence) for offence in found] == []


def test_the_report_finds_an_offender(tmp_path: Path) -> None:
    """The measure itself works: a branchy function and a long module are both reported."""
    branches = "\n".join(f"    if x == {n}:\n        return {n}" for n in range(MAX_COMPLEXITY))
    source = f"def branchy(x):\n{branches}\n    return -1\n" + "\n" * 400
    module = tmp_path / "branchy.py"
    module.write_text(source, encoding="utf-8")
    found = {(offence.what, offence.measure) for offence in offences_in(module)}
    assert found == {("branchy", "complexity"), ("branchy", "lines")}
