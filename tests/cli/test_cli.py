"""The `engage` command as a user runs it: a subprocess on a temporary SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ENGAGE = str(Path(sys.executable).with_name("engage"))


def engage(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ENGAGE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def lines(*objects: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'engage.db'}"


def test_observe_then_message(tmp_path: Path, store: str) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        lines(
            {
                "channel": "sms",
                "provider": "twilio",
                "provider_message_id": "SM1",
                "status": "sent",
                "occurred_at": "2026-01-01T00:00:02Z",
                "event_id": "e2",
            },
            {
                "channel": "sms",
                "provider": "twilio",
                "provider_message_id": "SM1",
                "status": "queued",
                "occurred_at": "2026-01-01T00:00:01Z",
                "event_id": "e1",
            },
            {
                "channel": "sms",
                "provider": "twilio",
                "provider_message_id": "SM1",
                "status": "delivered",
                "details": {"RawDlrDoneDate": "2601010000"},
            },
            {
                "channel": "sms",
                "provider": "twilio",
                "provider_message_id": "SM1",
                "status": "undelivered",
                "event_id": "e4",
            },
            {
                "channel": "sms",
                "provider": "twilio",
                "provider_message_id": "SM1",
                "status": "sent",
                "occurred_at": "2026-01-01T00:00:02Z",
                "event_id": "e2",
            },
        )
        + "\n"  # blank lines are skipped, not rejected
    )
    observed = engage("--store", store, "observe", str(feed))
    assert observed.returncode == 0, observed.stderr
    assert json.loads(observed.stdout) == {
        "received": 5,
        "applied": 2,
        "duplicates": 1,
        "late": 1,
        "conflicts": 1,
        "rejected": 0,
        "unchanged": 0,  # the same counts as every other way in: these never happen here
        "partial": 0,
        "quarantined": 0,
    }
    assert observed.stderr == ""

    shown = engage("--store", store, "message", "--provider-message-id", "SM1", "--channel", "sms")
    assert shown.returncode == 0, shown.stderr
    message = json.loads(shown.stdout)
    assert message["status"] == "delivered"
    assert message["channel"] == "sms"
    assert [(h["kind"], h["status"]) for h in message["history"]] == [
        ("inferred", "queued"),  # a report of `sent` proves the message was queued and sending
        ("inferred", "sending"),
        ("applied", "sent"),
        ("late", "queued"),
        ("applied", "delivered"),
        ("conflict", "undelivered"),
        ("duplicate", "sent"),
    ]
    assert message["history"][4]["details"] == {"RawDlrDoneDate": "2601010000"}

    by_id = engage("--store", store, "message", "--id", message["message_id"])
    assert by_id.returncode == 0
    assert json.loads(by_id.stdout) == message


def test_bad_lines_are_rejected_by_number_and_the_rest_apply(store: str) -> None:
    good = {
        "channel": "email",
        "provider": "sendgrid",
        "provider_message_id": "m",
        "status": "open",
    }
    feed = (
        lines(good)
        + "{not json\n"
        + lines(
            {**good, "channel": "fax"},
            {**good, "status": "exploded"},
            {**good, "provider_message_id": ""},
            {**good, "occurred_at": "yesterday"},
            {**good, "surprise": 1},
            [1, 2],
            {**good, "status": "bounce", "event_id": "b"},  # SendGrid's word is accepted
        )
    )
    result = engage("--store", store, "observe", "-", stdin=feed)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "received": 9,
        "applied": 1,
        "duplicates": 0,
        "late": 0,
        "conflicts": 1,
        "rejected": 7,
        "unchanged": 0,
        "partial": 0,
        "quarantined": 0,
    }
    errors = result.stderr.splitlines()
    assert len(errors) == 7
    for number, words in zip(
        range(2, 9),
        [
            "not valid JSON",
            "channel",
            "status",
            "provider_message_id",
            "occurred_at",
            "surprise",
            "a JSON object",
        ],
        strict=True,
    ):
        assert f"line {number}:" in errors[number - 2]
        assert words in errors[number - 2]
    assert "Traceback" not in result.stderr


def test_exit_codes(tmp_path: Path, store: str) -> None:
    missing = engage("--store", store, "observe", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr

    all_bad = engage("--store", store, "observe", "-", stdin="nope\n")
    assert all_bad.returncode == 1

    not_found = engage(
        "--store", store, "message", "--provider-message-id", "x", "--channel", "sms"
    )
    assert not_found.returncode == 1
    assert "no message" in not_found.stderr

    no_channel = engage("--store", store, "message", "--provider-message-id", "x")
    assert no_channel.returncode == 2
    assert "--channel" in no_channel.stderr

    bad_id = engage("--store", store, "message", "--id", "not-a-uuid")
    assert bad_id.returncode == 2

    bad_store = engage("--store", "mysql://x", "observe", "-", stdin="")
    assert bad_store.returncode == 2
    assert "unknown store" in bad_store.stderr

    usage = engage("frobnicate")
    assert usage.returncode == 2

    not_a_database = tmp_path / "junk.db"
    not_a_database.write_bytes(b"this is not a database" * 100)
    junk = engage("--store", f"sqlite:///{not_a_database}", "observe", "-", stdin="")
    assert junk.returncode == 1
    assert "Traceback" not in junk.stderr

    for result in (missing, all_bad, not_found, no_channel, bad_id, bad_store, usage, junk):
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url", ["postgresql://u:p@host:notaport/db", "http://[::1", "", "sqlite://host/x.db"]
)
def test_malformed_store_urls_are_usage_errors(url: str) -> None:
    result = engage("--store", url, "observe", "-", stdin="")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "engage: error:" in result.stderr


def test_a_store_holding_something_else_is_reported_not_traced(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    store = f"sqlite:///{path}"
    feed = lines({"channel": "sms", "provider": "twilio", "provider_message_id": "SM1",
                  "status": "sent"})  # fmt: skip
    assert engage("--store", store, "observe", "-", stdin=feed).returncode == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE stored_events SET topic = 'someone.else.Event'")
    shown = engage("--store", store, "message", "--provider-message-id", "SM1", "--channel", "sms")
    again = engage("--store", store, "observe", "-", stdin=feed)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE stored_events SET topic = 'engage.message.Observed', state = x'00ff'"
        )
    damaged = engage("--store", store, "observe", "-", stdin=feed)
    for result in (shown, again, damaged):
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
    assert "could not be used" in shown.stderr
    for result in (again, damaged):  # observe says how far it got before the store failed it
        assert "stopped: 0 inputs were saved" in result.stderr
        assert json.loads(result.stdout)["received"] == 0


def test_default_store_and_environment(tmp_path: Path) -> None:
    feed = lines(
        {
            "channel": "whatsapp",
            "provider": "meta",
            "provider_message_id": "wamid.1",
            "status": "read",
            "occurred_at": 1767225600,
        }
    )
    assert engage("observe", "-", stdin=feed, cwd=tmp_path).returncode == 0
    assert (tmp_path / "engage.db").exists()  # the embedded default needs no settings
    shown = engage(
        "message", "--provider-message-id", "wamid.1", "--channel", "whatsapp", cwd=tmp_path
    )
    assert json.loads(shown.stdout)["status"] == "read"

    elsewhere = tmp_path / "elsewhere.db"
    with_env = subprocess.run(
        [ENGAGE, "observe", "-"], input=feed, capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "ENGAGE_STORE": f"sqlite:///{elsewhere}"}, timeout=60, check=False,
    )  # fmt: skip
    assert with_env.returncode == 0
    assert elsewhere.exists()
    assert json.loads(with_env.stdout)["applied"] == 1  # a fresh store: nothing seen before


@pytest.mark.parametrize("channel", ["sms", "email", "whatsapp"])
def test_diagram_prints_mermaid(channel: str) -> None:
    result = engage("diagram", channel)
    assert result.returncode == 0
    assert "stateDiagram-v2" in result.stdout
    assert "[*] --> processed" in result.stdout


def test_demo_runs_on_a_fresh_store(store: str) -> None:
    first = engage("--store", store, "demo", "--messages", "60")
    assert first.returncode == 0, first.stderr
    assert "sms (" in first.stdout
    assert "email (" in first.stdout
    assert "whatsapp (" in first.stdout
    again = engage("--store", store, "demo", "--messages", "60")
    assert "every input was seen before" in again.stdout


def test_a_byte_order_mark_is_not_content(store: str) -> None:
    line = json.dumps({"channel": "sms", "provider": "t", "provider_message_id": "a",
                       "status": "sent"})  # fmt: skip
    result = engage("--store", store, "observe", "-", stdin="\ufeff" + line + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["applied"] == 1
