"""`engage subscriptions import` within its size limits, through the real command: a header of
10,000 columns refuses the file, a 40 MB row is one failed row, and neither takes the process's
memory anywhere near the size of the input (the child's peak RSS is measured)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import ENGAGE

# Runs the command as its only child, then writes the child's peak RSS (KiB on Linux) to a file:
# this wrapper has no other children, so RUSAGE_CHILDREN is the command's alone.
_MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""
MOST_KIB = 120 * 1024


def measured(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], int]:
    report = tmp_path / "peak.txt"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(report), ENGAGE, *args],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    return done, int(report.read_text())


def test_a_header_of_ten_thousand_columns_refuses_the_file_in_little_memory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.csv"
    header = ["email", "email_subscription_status"]
    header += [f"g{n}_subscription_status" for n in range(9_998)]
    row = ",".join(["a@example.com", *["subscribed"] * 9_999]) + "\n"
    with path.open("w") as out:
        out.write(",".join(header) + "\n")
        out.writelines(row for _ in range(300))  # 33 MB
    store = f"sqlite:///{tmp_path / 'e.db'}"
    done, peak = measured(tmp_path, "--store", store, "subscriptions", "import", str(path))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0  # one line
    assert "10,000 columns, over the limit of 1,000 (ENGAGE_CSV_MAX_COLUMNS)" in done.stderr
    assert "nothing was applied" in done.stderr
    assert "Traceback" not in done.stderr
    assert peak < MOST_KIB, f"peak RSS {peak} KiB"


def test_a_huge_row_is_one_failed_row_kept_in_the_error_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w") as out:
        out.write("email,email_subscription_status\na@example.com,subscribed\n")
        out.write("b@example.com," + "x" * 40_000_000 + "\n")  # one 40 MB line
        out.write('c@example.com,"' + "quoted\n" * 300_000 + '"\n')  # a 2 MB quoted cell
        out.write("d@example.com,subscribed\n")
    store = f"sqlite:///{tmp_path / 'e.db'}"
    errors = tmp_path / "errors.csv"
    done, peak = measured(
        tmp_path, "--store", store, "subscriptions", "import", str(path), "--errors", str(errors)
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "received": 4, "applied": 2, "partial": 0, "unchanged": 0, "rejected": 2,
        "duplicates": 0, "late": 0, "conflicts": 0, "quarantined": 0,
    }  # fmt: skip
    assert "Traceback" not in done.stderr
    assert "engage: row 3: ROW_TOO_LARGE: line 3: the row is over the limit of 1,048,576" in (
        done.stderr
    )
    with errors.open(newline="") as handle:
        kept = list(csv.DictReader(handle))
    assert [(r["row_number"], r["error_code"]) for r in kept] == [
        ("3", "ROW_TOO_LARGE"), ("4", "ROW_TOO_LARGE"),
    ]  # fmt: skip
    assert all("ENGAGE_CSV_MAX_ROW_CHARS" in r["error_message"] for r in kept)
    assert "line 4:" in kept[1]["error_message"]
    assert peak < MOST_KIB, f"peak RSS {peak} KiB"


def test_the_limits_are_settings(tmp_path: Path) -> None:
    path = tmp_path / "subs.csv"
    path.write_text("email,email_subscription_status\na@example.com,subscribed\n" + "b" * 50 + "\n")
    store = f"sqlite:///{tmp_path / 'e.db'}"
    base = {"PATH": "/usr/bin:/bin"}
    tight = {**base, "ENGAGE_CSV_MAX_ROW_CHARS": "40", "ENGAGE_CSV_MAX_CELL_CHARS": "5"}
    done, _ = measured(tmp_path, "--store", store, "subscriptions", "import", str(path), env=tight)
    assert done.returncode == 1  # every row failed
    assert "row 2: CELL_TOO_LARGE: 'email': 13 characters, over the limit of 5" in done.stderr
    assert "row 3: ROW_TOO_LARGE" in done.stderr
    bad = {**base, "ENGAGE_CSV_MAX_COLUMNS": "many"}
    done, _ = measured(tmp_path, "--store", store, "subscriptions", "import", str(path), env=bad)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "engage: error: ENGAGE_CSV_MAX_COLUMNS: a whole number (got 'many')"
    )
    assert "Traceback" not in done.stderr
