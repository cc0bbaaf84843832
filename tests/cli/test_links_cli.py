"""`engage links`: the JSON it prints verifies with the deployment's secret and says what was
asked; every setting or argument it cannot use is a usage error (exit 2) naming the problem,
with no traceback and no secret printed. Most runs are `main(argv)` in process (fast); one is
the installed `engage`, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.cli.main import main
from adapters.stores.links_settings import configure_links
from engage_core import ContactKey, EngageApplication
from engage_core.links import BadLink, LinkPurpose, LinkSigner
from tests.cli.test_cli import ENGAGE

SECRET = "cli-link-secret-0f1e2d3c4b5a"
OLD = "old-link-secret-a1b2c3d4e5f6"
BASE = "https://engage.example.com"
SETTINGS = {"ENGAGE_LINK_SECRET": f"{SECRET},{OLD}", "ENGAGE_PUBLIC_URL": BASE}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Only the link settings of ENGAGE_*: none of the caller's leaks in."""
    for name in [n for n in os.environ if n.startswith("ENGAGE_")]:
        monkeypatch.delenv(name)
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    return dict(SETTINGS)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["--store", "memory://", *argv])
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def links(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "links", *argv)
    assert (code, err) == (0, "")
    assert out.count("\n") == 1 or "--pretty" in argv  # one line unless asked to indent
    answer: dict[str, Any] = json.loads(out)
    return answer


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_manage_links_verify_and_say_what_was_asked(
    environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    answer = links(capsys, "email", "Ana@Example.com", "--group", "News", "--expires", "30d",
                   "--message-id", "m-1")  # fmt: skip
    assert sorted(answer) == ["expires_at", "headers", "preferences", "token_id", "unsubscribe"]
    token = token_of(answer["unsubscribe"])
    assert answer["preferences"] == f"{BASE}/preferences/{token}"
    assert answer["unsubscribe"] == f"{BASE}/unsubscribe/{token}"
    assert answer["headers"] == {
        "List-Unsubscribe": f"<{BASE}/unsubscribe/{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    expires_at = datetime.fromisoformat(answer["expires_at"])
    assert before + timedelta(days=30) <= expires_at <= before + timedelta(days=30, seconds=5)
    claims = LinkSigner([SECRET], BASE).claims(token, LinkPurpose.MANAGE, now=before)
    assert (claims.key, claims.group, claims.message_id, claims.token_id, claims.expires_at) == (
        "ana@example.com", "News", "m-1", answer["token_id"], expires_at,
    )  # fmt: skip
    with pytest.raises(BadLink):  # signed by the first secret, not the old one
        LinkSigner([OLD], BASE).claims(token, LinkPurpose.MANAGE, now=before)


def test_defaults_a_phone_without_headers_and_a_confirmation_link(
    environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    sms = links(capsys, "SMS", "+1 213 555 0100")
    assert sms["headers"] is None
    assert datetime.fromisoformat(sms["expires_at"]) - now > timedelta(days=59)
    monkeypatch.setenv("ENGAGE_LINK_EXPIRES", "12h")
    confirm = links(capsys, "--pretty", "whatsapp", "+12135550100", "--confirm")
    assert sorted(confirm) == ["confirm", "expires_at", "token_id"]
    assert confirm["confirm"].startswith(f"{BASE}/confirm/")
    claims = LinkSigner([SECRET], BASE).claims(
        token_of(confirm["confirm"]), LinkPurpose.CONFIRM, now=now
    )
    assert claims.key == "+12135550100"
    assert timedelta(days=6) < claims.expires_at - now <= timedelta(days=7)
    shorter = links(capsys, "email", "a@b.co")
    assert datetime.fromisoformat(shorter["expires_at"]) - now <= timedelta(hours=12)


@pytest.mark.parametrize(
    ("change", "argv", "named"),
    [
        ({"ENGAGE_LINK_SECRET": None}, [], "ENGAGE_LINK_SECRET is not set"),
        ({"ENGAGE_LINK_SECRET": f"{SECRET},short-one"}, [], "ENGAGE_LINK_SECRET: secret 2 of 2"),
        ({"ENGAGE_PUBLIC_URL": None}, [], "ENGAGE_PUBLIC_URL is not set"),
        ({"ENGAGE_PUBLIC_URL": "http://engage.example.com"}, [], "ENGAGE_PUBLIC_URL"),
        ({"ENGAGE_LINK_EXPIRES": "soon"}, [], "ENGAGE_LINK_EXPIRES"),
        ({}, ["--expires", "0d"], "argument --expires"),
        ({}, ["--group", "bad,group"], "argument --group"),
        ({}, ["--confirm", "--group", "News"], "--confirm"),
        ({}, ["--confirm", "--message-id", "m"], "--confirm"),
    ],
)
def test_what_cannot_be_used_is_a_usage_error_naming_it_and_no_secret(
    environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str | None],
    argv: list[str],
    named: str,
) -> None:
    for name, value in change.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "links", "email", "a@b.co", *argv)
    assert (code, out) == (2, "")
    assert named in err.splitlines()[-1]
    assert "Traceback" not in err
    for secret in (SECRET, OLD, "short-one"):
        assert secret not in err


@pytest.mark.parametrize(
    ("argv", "named"),
    [(["email", "not-an-address"], "email"), (["fax", "a@b.co"], "type"),
     (["sms", "+12135550100", "--group", "News"], "groups are for email")],
)  # fmt: skip
def test_a_bad_contact_is_a_usage_error(
    environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    named: str,
) -> None:
    code, out, err = run(capsys, "links", *argv)
    assert (code, out) == (2, "")
    assert named in err.splitlines()[-1]


def test_a_real_engage_without_a_secret_exits_2_and_prints_no_secret() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    shown = subprocess.run(
        [ENGAGE, "links", "email", "a@b.co"], capture_output=True, text=True, timeout=60,
        env={**clean, "ENGAGE_PUBLIC_URL": BASE}, check=False,
    )  # fmt: skip
    assert (shown.returncode, shown.stdout) == (2, "")
    assert shown.stderr.splitlines()[-1] == (
        "engage: error: ENGAGE_LINK_SECRET is not set: signed links need it"
    )
    short = subprocess.run(
        [ENGAGE, "links", "email", "a@b.co"], capture_output=True, text=True, timeout=60,
        env={**clean, "ENGAGE_PUBLIC_URL": BASE, "ENGAGE_LINK_SECRET": f"{SECRET},tiny-secret"},
        check=False,
    )  # fmt: skip
    assert short.returncode == 2
    assert "ENGAGE_LINK_SECRET: secret 2 of 2" in short.stderr
    assert "Traceback" not in short.stderr
    assert "tiny-secret" not in short.stderr
    assert SECRET not in short.stderr


def test_configuring_an_application_never_fails_and_keeps_the_problem() -> None:
    """What `open_application` does with the environment: a link setting that cannot be used
    must not stop every verb from opening its store; the first link asked for says why."""
    app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    email = ContactKey.parse("EMAIL", "a@b.co")
    configure_links(app, {"ENGAGE_LINK_SECRET": SECRET})
    assert app.links is None
    with pytest.raises(LookupError, match="cannot be made: ENGAGE_PUBLIC_URL is not set"):
        app.preference_link(email)
    configure_links(app, SETTINGS)
    assert app.links_problem is None
    assert app.preference_link(email).startswith(f"{BASE}/preferences/")
    configure_links(app, {})
    assert (app.links, app.links_problem) == (None, None)
    with pytest.raises(LookupError, match="not configured: set ENGAGE_LINK_SECRET"):
        app.unsubscribe_link(email)
