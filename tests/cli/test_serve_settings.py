"""`engage serve` as a real process, with a setting its app reads at start that cannot be used:
a template override that does not compile, a double opt-in channel that does not exist. Either
is a usage error (exit 2, one line naming the variable) before anything listens, with one
worker or two: never an internal error, nor workers dying on start and started again."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli import ENGAGE


def broken_templates(folder: Path) -> dict[str, str]:
    templates = folder / "templates"
    templates.mkdir()
    (templates / "confirm.html").write_text('{% extends "base.html" %}\n{% if %}', "utf-8")
    return {"ENGAGE_TEMPLATES": str(templates)}


def bad_double_opt_in(_: Path) -> dict[str, str]:
    return {"ENGAGE_DOUBLE_OPT_IN": "fax"}


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize(("setting", "said"), [
    pytest.param(broken_templates, "engage: error: ENGAGE_TEMPLATES: confirm.html, line 2: ",
                 id="templates"),
    pytest.param(bad_double_opt_in, "engage: error: ENGAGE_DOUBLE_OPT_IN: unknown channel 'fax'",
                 id="double-opt-in"),
])  # fmt: skip
def test_an_unusable_setting_is_a_usage_error_before_anything_listens(
    tmp_path: Path, setting: Callable[[Path], dict[str, str]], said: str, workers: str
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    completed = subprocess.run(
        [ENGAGE, "--store", store, "serve", "--port", "0", "--workers", workers],
        capture_output=True, text=True, timeout=30, check=False, cwd=tmp_path,
        env={**environment, **setting(tmp_path)},
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert completed.stdout == ""  # no listening line: nothing listened
    lines = completed.stderr.strip().splitlines()
    assert lines[-1].startswith(said), completed.stderr
    assert "Traceback" not in completed.stderr
    assert "internal error" not in completed.stderr
