"""The simulator's ground truth is what the engine concludes: for many seeds and both shipped
profiles, directly through the adapters, through the CLI, and over HTTP to the real service;
the same seed and profile give the same bytes."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.cli.simulate import run_simulation
from adapters.cli.simulate_feed import HttpTarget
from adapters.stores import open_application
from adapters.web import WebSettings, create_app
from engage_core.simulation.generator import generate
from engage_core.simulation.profiles import PROFILES, builtin_profile
from tests.web.conftest import running

ENGAGE = str(Path(sys.executable).with_name("engage"))


def _clean(report: dict[str, object]) -> dict[str, object]:
    truth = report["ground_truth"]
    assert isinstance(truth, dict)
    assert truth["first_mismatches"] == [], truth["first_mismatches"]
    return truth


@settings(max_examples=12)
@given(st.integers(0, 2**32), st.sampled_from(PROFILES), st.integers(1, 40))
def test_the_ground_truth_is_the_engines_outcome(seed: int, profile: str, messages: int) -> None:
    simulation = generate(seed, messages, builtin_profile(profile))
    with tempfile.TemporaryDirectory() as folder:
        report = run_simulation(f"sqlite:///{folder}/engage.db", simulation, None)
    truth = _clean(report)
    assert truth["messages_checked"] == len(simulation.truth.messages) > 0


@pytest.mark.parametrize("profile", PROFILES)
def test_the_same_seed_gives_the_same_bytes(profile: str) -> None:
    first = generate(5, 60, builtin_profile(profile))
    again = generate(5, 60, builtin_profile(profile))
    assert first.arrivals == again.arrivals
    assert first.truth == again.truth
    assert generate(6, 60, builtin_profile(profile)).arrivals != first.arrivals


def test_through_the_cli_with_files_to_replay(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [ENGAGE, "--store", f"sqlite:///{tmp_path}/e.db", "simulate", "--messages", "40",
         "--seed", "3", "--profile", "hostile", "--out", str(out), "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    _clean(report)
    assert set(report["inputs"]) >= {"csv", "twilio", "sendgrid"}
    truth = json.loads((out / "truth.json").read_text())
    assert truth["messages"] == generate(3, 40, builtin_profile("hostile")).truth.messages
    replay = subprocess.run(
        ["sh", str(out / "replay.sh")], capture_output=True, text=True, check=False, timeout=300,
        env={"ENGAGE": ENGAGE, "ENGAGE_STORE": f"sqlite:///{tmp_path}/replayed.db",
             "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr


def test_a_mismatch_exits_1(tmp_path: Path) -> None:
    """The same traffic again finds every report a duplicate: no event is published, which
    the truth (for a store that never saw it) does not expect."""
    argv = [ENGAGE, "--store", f"sqlite:///{tmp_path}/e.db", "simulate", "--messages", "5"]
    assert subprocess.run(argv, capture_output=True, check=False).returncode == 0
    again = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert again.returncode == 1
    assert "mismatch" in again.stdout


def test_over_http_the_outcome_is_the_direct_one(tmp_path: Path) -> None:
    simulation = generate(11, 40, builtin_profile("hostile"))
    store = f"sqlite:///{tmp_path}/served.db"
    environ = {**simulation.keys.environ(), "ENGAGE_API_TOKEN": "sim-api-token",
               "ENGAGE_WRITE_KEY": "sim-write-key"}  # fmt: skip
    app = open_application(store)
    try:
        with running(create_app(app, WebSettings.from_environment(environ))) as url:
            target = HttpTarget(url, "sim-api-token", "sim-write-key")
            served = run_simulation(store, simulation, target)
    finally:
        app.close()
    direct = run_simulation(f"sqlite:///{tmp_path}/direct.db", simulation, None)
    _clean(served)
    _clean(direct)
    assert served["status"] == direct["status"]
    assert served["funnel"] == direct["funnel"]
