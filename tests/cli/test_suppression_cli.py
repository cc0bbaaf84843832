"""`engage suppression show|lift` and `engage policies rederive` on a SQLite file: what they
print, the policy read from the environment, and bad input refused with exit 2 naming the
field or variable, never a traceback. Most runs are in-process (`main`); one runs the installed
`engage` itself."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from adapters.cli.main import main
from adapters.stores import open_application
from engage_core import Observation
from tests.cli.test_cli import ENGAGE, engage

ADDRESS = "carla@example.com"


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store where ADDRESS hard-bounced and +12135550199 failed twice with 30006."""
    url = f"sqlite:///{tmp_path / 'engage.db'}"
    app = open_application(url)
    app.observe([
        Observation.create("email", "sendgrid", "sg-1", "bounce", event_id="b1",
                           facts={"contact": ADDRESS, "bounce_type": "bounce"}),
        *(Observation.create("sms", "twilio", f"SM{n}", "failed", event_id=f"f{n}",
                             facts={"contact": "+12135550199", "error_code": "30006"})
          for n in range(2)),
    ])  # fmt: skip
    app.close()
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    """Exit code, the JSON printed (None: nothing), stderr; argparse's own refusals exit."""
    try:
        code = main(list(args))
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 1
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_show_lift_and_show_again(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, shown, _ = run(capsys, "--store", store, "suppression", "show", "EMAIL", ADDRESS)
    assert code == 0
    assert shown["suppressed"] is True
    assert shown["suppression"]["rule"] == "hard_bounce"
    assert shown["suppression"]["policy"] == "policy@v1"
    assert [f["kind"] for f in shown["facts"]] == ["hard_bounce"]
    lift = ["suppression", "lift", "email", ADDRESS, "--reason", "confirmed by the customer"]
    code, lifted, _ = run(capsys, "--store", store, *lift, "--operator", "dana")
    assert code == 0
    assert lifted["lifted"] == shown["suppression"]
    assert (lifted["suppressed"], lifted["lifts"][0]["operator"]) == (False, "dana")
    code, after, _ = run(capsys, "--store", store, "suppression", "show", "email", ADDRESS)
    assert {**after, "lifted": lifted["lifted"]} == lifted
    code, subscription, _ = run(capsys, "--store", store, "subscription", "sms", "+12135550199")
    assert subscription["suppression"]["reason"] == "2 carrier errors (30006) within 30 days"


def test_rederive_reads_the_policy_from_the_environment(
    store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGAGE_SUPPRESSION_POLICY_VERSION", "2")
    monkeypatch.setenv("ENGAGE_CARRIER_ERROR_REPEATS", "3")
    code, summary, _ = run(capsys, "--store", store, "policies", "rederive")
    assert code == 0
    assert summary == {"policy": "policy@v2", "revisited": 2, "changed": 2, "suppressed": 0,
                       "released": 1, "restated": 1}  # fmt: skip
    code, again, _ = run(capsys, "--store", store, "policies", "rederive")
    assert (again["revisited"], again["changed"]) == (2, 0)
    _, shown, _ = run(capsys, "--store", store, "suppression", "show", "sms", "+12135550199")
    assert shown["suppressed"] is False
    assert [h["cause"] for h in shown["history"]] == ["fact", "rederive"]


@pytest.mark.parametrize(("args", "named"), [
    (["suppression", "lift", "email", ADDRESS, "--reason", "  "], "--reason"),
    (["suppression", "lift", "email", ADDRESS, "--reason", "ok", "--operator", ""], "--operator"),
    (["suppression", "lift", "email", ADDRESS], "--reason"),
    (["suppression", "show", "fax", ADDRESS], "type"),
    (["suppression", "show", "email", "nobody"], "email"),
])  # fmt: skip
def test_bad_input_is_exit_2_naming_the_field(
    store: str, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    code, printed, err = run(capsys, "--store", store, *args)
    assert (code, printed) == (2, None)
    assert named in err
    assert "Traceback" not in err


def test_the_installed_engage_refuses_a_bad_policy_setting(store: str) -> None:
    result = engage("--store", store, "policies", "rederive")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["changed"] == 0
    refused = subprocess.run(
        [ENGAGE, "--store", store, "policies", "rederive"], capture_output=True, text=True,
        timeout=60, check=False,
        env={**os.environ, "ENGAGE_SOFT_BOUNCE_WINDOW_SECONDS": "soon"},
    )  # fmt: skip
    assert refused.returncode == 2
    assert "ENGAGE_SOFT_BOUNCE_WINDOW_SECONDS" in refused.stderr
    assert "Traceback" not in refused.stderr
