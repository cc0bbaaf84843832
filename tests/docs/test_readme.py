"""The README's Python example runs as written and does what the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def test_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    state = namespace["state"]
    assert getattr(state, "status", None) == "delivered"
    kinds = [(entry.kind, entry.status) for entry in getattr(state, "history", ())]
    assert kinds[0] == ("applied", "processed")
    assert kinds[-1] == ("late", "sent")
    assert (tmp_path / "engage.db").exists()
    permission = namespace["permission"]
    assert getattr(permission, "allowed", None) is True
