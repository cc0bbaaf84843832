"""`engage ingest` and `engage quarantine` as a user runs them: real signatures, secrets from
the environment, a SQLite store, JSON on stdout and reasons on stderr, never a traceback."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from tests.cli.test_cli import ENGAGE
from tests.providers.test_sendgrid import PUBLIC_KEY, sign

PAYLOADS = Path(__file__).parents[1] / "providers" / "payloads"
TOKEN = "12345678901234567890123456789012"
APP_SECRET = "meta-app-secret"
URL = "https://engage.example.com/webhooks/twilio?engage_message_id=m-42"


def run(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    completed = subprocess.run(
        [ENGAGE, *args], input=stdin, capture_output=True, env={**clean, **(env or {})},
        timeout=60, check=False,
    )  # fmt: skip
    return subprocess.CompletedProcess(
        completed.args, completed.returncode, completed.stdout.decode(), completed.stderr.decode()
    )


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'engage.db'}"


def test_a_signed_twilio_callback(store: str, tmp_path: Path) -> None:
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "From": "+15005550006",
              "To": "+12135618345", "AccountSid": "AC1"}  # fmt: skip
    body = tmp_path / "callback.txt"
    body.write_text(urlencode(params))
    signature = RequestValidator(TOKEN).compute_signature(URL, params)
    env = {"ENGAGE_TWILIO_AUTH_TOKEN": TOKEN}
    ok = run("--store", store, "ingest", "twilio", str(body), "--url", URL,
             "--header", f"X-Twilio-Signature: {signature}", env=env)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {
        "received": 1, "applied": 1, "duplicates": 0, "late": 0, "conflicts": 0,
        "rejected": 0, "quarantined": 0, "unchanged": 0, "partial": 0,
    }  # fmt: skip
    shown = run("--store", store, "message", "--provider-message-id", "SM1", "--channel", "sms")
    assert json.loads(shown.stdout)["status"] == "delivered"
    moved = run("--store", store, "ingest", "twilio", str(body), "--url", URL + "&x=1",
                "--header", f"X-Twilio-Signature: {signature}", env=env)  # fmt: skip
    assert moved.returncode == 1
    assert json.loads(moved.stdout)["rejected"] == 1
    assert "refused" in moved.stderr
    assert "Traceback" not in moved.stderr


def test_a_signed_sendgrid_batch_from_stdin(store: str) -> None:
    body = (PAYLOADS / "sendgrid" / "all_events.json").read_bytes()
    timestamp = str(int(time.time()))
    headers = ["--header", f"X-Twilio-Email-Event-Webhook-Signature: {sign(body, timestamp)}",
               "--header", f"X-Twilio-Email-Event-Webhook-Timestamp: {timestamp}"]  # fmt: skip
    env = {"ENGAGE_SENDGRID_PUBLIC_KEY": PUBLIC_KEY}
    first = run("--store", store, "ingest", "sendgrid", "-", *headers, stdin=body, env=env)
    assert first.returncode == 0, first.stderr
    counts = json.loads(first.stdout)
    events = len(orjson.loads(body))
    assert counts["received"] == events
    assert counts["applied"] + counts["conflicts"] + counts["late"] == events
    again = run("--store", store, "ingest", "sendgrid", "-", *headers, stdin=body, env=env)
    assert json.loads(again.stdout)["duplicates"] == events


def test_without_a_secret_it_is_refused_held_and_retried_once_configured(store: str) -> None:
    body = (PAYLOADS / "meta" / "status_read.json").read_bytes()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    header = ["--header", f"X-Hub-Signature-256: {signature}"]
    refused = run("--store", store, "ingest", "meta", "-", *header, stdin=body)
    assert refused.returncode == 1
    assert "ENGAGE_META_APP_SECRET" in refused.stderr
    listed = [json.loads(line) for line in run("--store", store, "quarantine", "list").stdout
              .splitlines()]  # fmt: skip
    (entry,) = listed
    assert entry["provider"] == "meta"
    assert entry["refused"] is True
    assert entry["body"].encode() == body
    assert entry["headers"]["X-Hub-Signature-256"] == signature
    retried = run("--store", store, "quarantine", "retry",
                  env={"ENGAGE_META_APP_SECRET": APP_SECRET})  # fmt: skip
    assert retried.returncode == 0, retried.stderr
    outcome = json.loads(retried.stdout)
    assert (outcome["id"], outcome["released"], outcome["applied"]) == (entry["id"], True, 1)
    assert run("--store", store, "quarantine", "list").stdout == ""
    assert len(run("--store", store, "quarantine", "list", "--all").stdout.splitlines()) == 1


def test_no_verify_is_explicit_and_bad_bodies_are_refused_with_a_reason(store: str) -> None:
    replay = run("--store", store, "ingest", "sendgrid", "-", "--no-verify",
                 stdin=b'[{"event": "delivered"}]')  # fmt: skip
    assert replay.returncode == 1  # its one element is quarantined: nothing landed
    assert json.loads(replay.stdout)["quarantined"] == 1
    assert "sg_message_id" in replay.stderr
    broken = run("--store", store, "ingest", "sendgrid", "-", "--no-verify", stdin=b"[{")
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["rejected"] == 1
    assert "Traceback" not in broken.stderr
    usage = run("--store", store, "ingest", "sendgrid", "-", "--header", "no colon")
    assert usage.returncode == 2
    assert "Name: value" in usage.stderr
    missing = run("--store", store, "ingest", "meta", "/nonexistent/body.json")
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
    unknown = run("--store", store, "quarantine", "retry", "not-a-uuid")
    assert unknown.returncode == 2


def test_retry_without_verification_skips_what_never_verified_unless_named(store: str) -> None:
    body = (PAYLOADS / "meta" / "status_read.json").read_bytes()
    forged = ["--header", "X-Hub-Signature-256: sha256=" + "0" * 64]
    env = {"ENGAGE_META_APP_SECRET": APP_SECRET}
    run("--store", store, "ingest", "meta", "-", *forged, stdin=body, env=env)
    (entry,) = [json.loads(line) for line in run("--store", store, "quarantine", "list").stdout
                .splitlines()]  # fmt: skip
    assert entry["unauthenticated"] is True
    skipped = run("--store", store, "quarantine", "retry", "--no-verify")
    assert skipped.returncode == 1
    assert "never verified" in skipped.stderr
    assert skipped.stdout == ""
    named = run("--store", store, "quarantine", "retry", "--no-verify", entry["id"])
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["applied"] == 1
    (after,) = [json.loads(line) for line in run("--store", store, "quarantine", "list",
                "--all").stdout.splitlines()]  # fmt: skip
    assert (after["released"], after["last_retry_verified"]) == (True, False)


def test_a_key_sendgrid_never_gave_is_a_clear_error(store: str) -> None:
    result = run("--store", store, "ingest", "sendgrid", "-", stdin=b"[]",
                 env={"ENGAGE_SENDGRID_PUBLIC_KEY": "garbage"})  # fmt: skip
    assert result.returncode == 1
    assert "ENGAGE_SENDGRID_PUBLIC_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    other = run("--store", store, "ingest", "meta", "-", "--no-verify", stdin=b"{}",
                env={"ENGAGE_SENDGRID_PUBLIC_KEY": "garbage"})  # fmt: skip
    assert "Traceback" not in other.stderr  # another provider's bad key is not this one's


def test_arguments_that_are_not_utf8_are_usage_errors(store: str) -> None:
    bad = os.fsdecode(b"X-Note: \xff")
    result = run("--store", store, "ingest", "meta", "-", "--header", bad, stdin=b"{}")
    assert result.returncode == 2
    assert "UTF-8" in result.stderr
