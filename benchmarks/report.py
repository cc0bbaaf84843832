"""Where a table run says it was measured, and how its tables land in `docs/benchmarks.md`.

A figure without its machine and commit cannot be compared with the next one, so every table
written into the doc carries the Python, platform and CPUs, the commit (`+dirty` when the tree
had changes: the figures are then of code no commit holds), the date and the command that
reproduces it. The doc keeps its prose: only what lies between a table's two marker comments
is replaced, and a missing pair of markers is an error rather than a guess at where to write.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def commit() -> str:
    """`git rev-parse --short HEAD`, with `+dirty` when the working tree has changes other than
    this document (which the table step of the same `make bench` has just rewritten)."""
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git(
        "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/benchmarks.md"
    )
    return head + ("+dirty" if changed else "")


def machine() -> str:
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}, {os.cpu_count()} CPUs"
    )


def provenance(command: str, seconds: float) -> str:
    """The line under a table: machine, commit, date, the command, how long it took."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Measured on {machine()}; commit `{commit()}`; {today}; `{command}` "
        f"({seconds / 60:.1f} min)."
    )


def replace_between(text: str, name: str, content: str) -> str:
    """`text` with what lies between `<!-- NAME:start -->` and `<!-- NAME:end -->` replaced."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    before, found, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not found or not found_end:
        raise ValueError(f"{start} … {end} not found in the document")
    return f"{before}{start}\n{content.strip()}\n{end}{after}"


def rewrite(name: str, content: str, doc: Path = DOC) -> None:
    """Replace the `name` table of `doc` with `content`."""
    doc.write_text(replace_between(doc.read_text(encoding="utf-8"), name, content),
                   encoding="utf-8")  # fmt: skip
