"""docs/simulation.md's sections on engage_core.testing run as written: the strategies'
examples, the campaign service checked against EngageModel, and the plugin's fixtures in a
pytest run of their own (the plugin as its entry point installs it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

DOC = Path(__file__).parents[2] / "docs" / "simulation.md"
SECTIONS = ("Testing your service with Engage's strategies", "EngageModel", "The pytest plugin")


def blocks(section: str) -> list[str]:
    """The python blocks of one `## ` section of the page."""
    text = DOC.read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start : end if end != -1 else None], re.S)


def run(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "simulation_md"}
    exec(compile(code, str(DOC), "exec"), namespace)
    return namespace


def test_the_strategy_examples_run() -> None:
    found = blocks(SECTIONS[0])
    assert len(found) == 2
    for code in found:
        run(code)


def test_the_campaign_service_is_checked_against_the_model() -> None:
    (code,) = blocks(SECTIONS[1])
    namespace = run(code)
    namespace["TestCampaign"]("runTest").runTest()


def test_a_campaign_that_ignores_consent_is_caught() -> None:
    (code,) = blocks(SECTIONS[1])
    careless = code.replace("if app.can_send(contact).allowed", "if contact")
    assert careless != code
    namespace = run(careless)
    try:
        namespace["TestCampaign"]("runTest").runTest()
    except AssertionError:
        return
    raise AssertionError("the model let a campaign that ignores consent pass")


def test_the_plugin_example_runs_under_pytest(tmp_path: Path) -> None:
    (code,) = blocks(SECTIONS[2])
    (tmp_path / "test_example.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
