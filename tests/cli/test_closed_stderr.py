"""When the reader of stderr goes away (`engage … 2>&1 | head`), the command still finishes
what it was given: an import does not stop half-way (with exit 0) because its diagnostics
could not be printed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli.test_cli import ENGAGE


def test_an_import_whose_stderr_closed_applies_every_row(tmp_path: Path) -> None:
    rows = ["email,email_subscription_status"]
    rows += [f"bad{i},subscribed" for i in range(300)]  # each one a line on stderr
    rows += [f"u{i}@example.com,subscribed" for i in range(500)]
    (tmp_path / "subs.csv").write_text("\n".join(rows) + "\n")
    store = f"sqlite:///{tmp_path / 'e.db'}"
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert reader.stdin is not None
    done = subprocess.run(
        [ENGAGE, "--store", store, "subscriptions", "import", str(tmp_path / "subs.csv"),
         "--errors", str(tmp_path / "errors.csv")],
        stderr=reader.stdin, stdout=subprocess.PIPE, timeout=120, check=False,
    )  # fmt: skip
    reader.stdin.close()
    reader.wait(10)
    summary = json.loads(done.stdout)
    assert (summary["received"], summary["rejected"], summary["applied"]) == (800, 300, 500)
    assert len((tmp_path / "errors.csv").read_text().splitlines()) == 301
    last = subprocess.run(
        [ENGAGE, "--store", store, "subscription", "email", "u499@example.com"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(last.stdout)["status"] == "SUBSCRIBED"
