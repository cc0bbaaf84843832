"""Consent keywords as an operator meets them: `engage ingest twilio` with Twilio's own
signatures, then `engage can-send`, in real subprocesses on a SQLite store; the keyword
settings from the environment, and a bad one refused in one line."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from tests.cli.test_ingest_cli import TOKEN, URL, run

NUMBER = "+12135618345"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'engage.db'}"


def ingest(store: str, tmp_path: Path, sid: str, body: str, **env: str) -> None:
    params = {"MessageSid": sid, "SmsSid": sid, "SmsStatus": "received", "Body": body,
              "From": NUMBER, "To": "+15017122661", "AccountSid": "AC1"}  # fmt: skip
    path = tmp_path / f"{sid}.txt"
    path.write_text(urlencode(params))
    signature = RequestValidator(TOKEN).compute_signature(URL, params)
    done = run("--store", store, "ingest", "twilio", str(path), "--url", URL,
               "--header", f"X-Twilio-Signature: {signature}",
               env={"ENGAGE_TWILIO_AUTH_TOKEN": TOKEN, **env})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["applied"] == 1


def can_send(store: str, *flags: str) -> dict[str, object]:
    done = run("--store", store, "can-send", "sms", NUMBER, *flags)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


@pytest.mark.parametrize("word", ["OPTOUT", "revoke"])
def test_optout_and_revoke_lock_the_number(store: str, tmp_path: Path, word: str) -> None:
    ingest(store, tmp_path, "SM1", "START")
    assert can_send(store)["allowed"] is True
    ingest(store, tmp_path, "SM2", word)
    for flags in [(), ("--transactional",)]:
        answer = can_send(store, *flags)
        reason = "the user opted out of this channel themselves (a STOP, or the preference center)"
        assert answer == {"allowed": False, "reason": reason}


def test_added_words_come_from_the_environment(store: str, tmp_path: Path) -> None:
    ingest(store, tmp_path, "SM1", "Arrêt")  # not a keyword by default
    assert can_send(store)["allowed"] is False  # no state at all: marketing needs SUBSCRIBED
    shown = run("--store", store, "subscription", "sms", NUMBER)
    assert json.loads(shown.stdout)["status"] is None
    ingest(store, tmp_path, "SM2", "ARRÊT", ENGAGE_STOP_WORDS="arrêt, baja")
    assert json.loads(run("--store", store, "subscription", "sms", NUMBER).stdout)["locked_by_user"]


def test_a_word_of_two_kinds_stops_the_command_with_one_error(store: str) -> None:
    done = run("--store", store, "can-send", "sms", NUMBER,
               env={"ENGAGE_START_WORDS": "yes, Stop"})  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    usage, line = done.stderr.splitlines()  # a setting is refused as a bad argument is
    assert usage.startswith("usage: engage")
    assert line.startswith("engage: error: ENGAGE_START_WORDS: ")
    assert "'STOP' cannot be both a STOP and a START word" in line
    assert "Traceback" not in done.stderr
