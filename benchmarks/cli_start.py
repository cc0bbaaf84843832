"""Workload "cli": how long `engage --help` and `engage diagram sms` take to start and finish,
and `import engage_core` alone, against `python -c pass` measured in the same run.

A CLI's start is mostly imports, and an absolute time on a shared VM moves with its
neighbours; the difference from a bare interpreter started in the same rounds is what the
CLI itself costs. Each contender is a fresh subprocess (`python -m adapters.cli.main …` from
the repository root), rounds interleaved as for every workload, best round credited.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Contender, Result, measure, reusing

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 0.3  # over `python -c pass`, for each command
STARTS = 5  # processes per round per contender
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "engage --help": ["-m", "adapters.cli.main", "--help"],
    "engage diagram sms": ["-m", "adapters.cli.main", "diagram", "sms"],
    "import engage_core": ["-c", "import engage_core"],
}
# over `python -c pass`: a verb's start, and the core's import (what every verb pays first)
GOALS_SECONDS = {name: GOAL_SECONDS for name in COMMANDS} | {"import engage_core": 0.15}
FULL_REPEATS = 5


def _starts(arguments: list[str]) -> int:
    for _ in range(STARTS):
        subprocess.run([sys.executable, *arguments], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return STARTS


def run(*, repeats: int = FULL_REPEATS) -> tuple[Result, str]:
    contenders = [
        Contender(name, reusing(functools.partial(_starts, arguments)))
        for name, arguments in COMMANDS.items()
    ]
    result = measure("cli", "starts/s", contenders, repeats)
    bare = 1 / result.best("python -c pass")
    lines = [f'Workload "cli": process start to exit, best of {repeats} rounds of {STARTS}']
    lines.append(f"  {'python -c pass':<22}{bare * 1000:>8.0f} ms")
    for name in list(COMMANDS)[1:]:
        seconds = 1 / result.best(name)
        over, goal = seconds - bare, GOALS_SECONDS[name]
        verdict = "met" if over < goal else "MISSED"
        lines.append(
            f"  {name:<22}{seconds * 1000:>8.0f} ms   {over * 1000:+.0f} ms over python -c pass"
            f"   goal < {goal * 1000:.0f} ms over: {verdict}"
        )
    return result, "\n".join(lines)
