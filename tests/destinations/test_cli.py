"""`engage deliver`, `replay` and `dead-letters` as a user runs them: subprocesses on a SQLite
store, a real HTTP receiver, and one-line errors (exit 2) for bad settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.http_receiver import Receiver, Reply

ENGAGE = str(Path(sys.executable).with_name("engage"))


def engage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    return subprocess.run(
        [ENGAGE, *args], capture_output=True, text=True, timeout=60, check=False,
        env={**clean, **(env or {})},
    )  # fmt: skip


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with demo traffic (about 50 outbox events), copied by each test."""
    directory = tmp_path_factory.mktemp("seed")
    done = engage("--store", f"sqlite:///{directory / 'engage.db'}", "demo", "--messages", "20")
    assert done.returncode == 0, done.stderr
    return directory


@pytest.fixture
def store(seeded: Path, tmp_path: Path) -> str:
    for file in seeded.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    return f"sqlite:///{tmp_path / 'engage.db'}"


def test_deliver_once_to_the_default_jsonl_file(store: str, tmp_path: Path) -> None:
    done = engage("--store", store, "deliver", "--once")
    assert done.returncode == 0, done.stderr
    (report,) = json_lines(done.stdout)
    assert report["destination"] == "jsonl"
    assert report["pending"] == 0
    delivered = report["delivered"]
    assert isinstance(delivered, int)
    assert delivered > 20
    lines = json_lines((tmp_path / "engage.events.jsonl").read_text())
    assert len(lines) == delivered
    assert [line["position"] for line in lines] == list(range(1, delivered + 1))
    again = engage("--store", store, "deliver")
    assert json_lines(again.stdout)[0]["delivered"] == 0

    events = engage("--store", store, "events")
    assert [json.loads(x)["messageId"] for x in events.stdout.splitlines()] == [
        line["messageId"] for line in lines
    ]


def test_park_list_redrive_and_replay_over_http(
    store: str, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.reset(secret="whsec_cli")
    config = tmp_path / "engage.toml"
    config.write_text(f"""
[delivery]
max_attempts = 2
base_delay = 0.01

[destinations.hook]
type = "webhook"
url = "{receiver.url}/in"
secret_env = "HOOK_SECRET"
batch_size = 10
""")
    env = {"HOOK_SECRET": "whsec_cli"}
    receiver.script(Reply(503), Reply(503))
    done = engage("--store", store, "deliver", "--destination", "hook", env=env)
    assert done.returncode == 0, done.stderr
    (report,) = json_lines(done.stdout)
    assert (report["delivered"], report["parked"]) == (0, 10)
    assert "10 events parked in dead letters" in done.stderr
    assert "whsec_cli" not in done.stdout + done.stderr

    listed = engage("--store", store, "dead-letters", "list")
    (letter,) = json_lines(listed.stdout)
    assert letter["destination"] == "hook"
    assert letter["events"] == 10
    assert letter["attempts"] == 2
    assert str(letter["reason"]).startswith(f"HTTP 503 from {receiver.url}")

    done = engage("--store", store, "deliver", env=env)  # recovered: the rest goes
    assert json_lines(done.stdout)[0]["pending"] == 0
    redriven = engage("--store", store, "dead-letters", "redrive", env=env)
    assert redriven.returncode == 0, redriven.stderr
    assert json_lines(redriven.stdout) == [{"redriven": 1, "events": 10, "still_parked": []}]
    assert engage("--store", store, "dead-letters", "list").stdout == ""
    assert len(json_lines(engage("--store", store, "dead-letters", "list", "--all").stdout)) == 1
    assert all(r.signature_ok for r in receiver.requests)
    acknowledged = receiver.acknowledged_ids()
    assert len(acknowledged) == len(set(acknowledged))

    receiver.reset(secret="whsec_cli")
    replayed = engage("--store", store, "replay", "--destination", "hook", "--from", "40",
                      env=env)  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    total = len(set(acknowledged))
    assert json_lines(replayed.stdout)[0]["delivered"] == total - 39
    receiver.reset(secret="whsec_cli")
    by_time = engage("--store", store, "replay", "--destination", "hook",
                     "--from", "2026-01-01T04:00:00Z", env=env)  # fmt: skip
    assert by_time.returncode == 0, by_time.stderr
    stamps = [e["timestamp"] for r in receiver.requests for e in r.events()]
    assert 0 < len(stamps) < total
    assert all(s >= "2026-01-01T04:00:00" for s in stamps)


def test_redrive_of_a_still_failing_letter_exits_1(
    store: str, tmp_path: Path, receiver: Receiver
) -> None:
    (tmp_path / "engage.toml").write_text(
        f'[delivery]\nmax_attempts = 1\n[destinations.hook]\ntype = "webhook"\n'
        f'url = "{receiver.url}"\nbatch_size = 1000\n'
    )
    receiver.script(Reply(400), Reply(400))
    engage("--store", store, "deliver")
    done = engage("--store", store, "dead-letters", "redrive", "1", "99")
    assert done.returncode == 1
    assert json_lines(done.stdout)[0]["still_parked"] == [1]
    assert "no parked dead letter 99" in done.stderr


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["deliver"], '[destinations.x]\ntype = "nope"\n', "type must be one of"),
        (["deliver"], "[destinations\n", "not valid TOML"),
        (["deliver"], '[destinations.x]\ntype = "webhook"\nurl = "notaurl"\n', "http://"),
        (["deliver", "--destination", "other"], "", "no destination 'other'"),
        (["replay", "--destination", "jsonl", "--from", "yesterday"], "", "ISO-8601"),
        (["deliver", "--config", "/nonexistent/engage.toml"], "", "does not exist"),
        (
            ["deliver"],
            '[destinations.s]\ntype = "segment"\nwrite_key = "wk_SECRET"\nbase_url = "x"\n',
            "base_url must start",
        ),
    ],
)
def test_bad_settings_are_one_line_errors(
    store: str, tmp_path: Path, args: list[str], config: str, message: str
) -> None:
    if config:
        (tmp_path / "engage.toml").write_text(config)
    done = engage("--store", store, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "wk_SECRET" not in done.stderr
    assert done.stdout == ""


def test_follow_keeps_delivering_new_events(store: str, tmp_path: Path) -> None:
    (tmp_path / "engage.toml").write_text(
        '[delivery]\npoll_interval = 0.05\n[destinations.file]\ntype = "jsonl"\n'
        'path = "followed.jsonl"\n'
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    follower = subprocess.Popen(
        [ENGAGE, "--store", store, "deliver", "--follow"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=clean,
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())
        line = {"channel": "sms", "provider": "twilio", "provider_message_id": "SM-new",
                "status": "delivered", "event_id": "n1"}  # fmt: skip
        (tmp_path / "new.jsonl").write_text(json.dumps(line) + "\n")
        assert engage("--store", store, "observe", str(tmp_path / "new.jsonl")).returncode == 0
        second = json.loads(follower.stdout.readline())
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(10)
    assert second["delivered"] == 1
    assert second["position"] == first["position"] + 1
    assert follower.returncode == 130
    assert "Traceback" not in (follower.stderr.read() if follower.stderr else "")
    lines = json_lines((tmp_path / "followed.jsonl").read_text())
    assert lines[-1]["properties"]["provider_message_id"] == "SM-new"


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        ('[destinations.x]\ntype = ["jsonl"]\n', {}, "type must be one of"),
        ('[destinations.x]\ntype = "jsonl"\nstart = ["end"]\n', {}, "start must be"),
        ("", {"ENGAGE_SQL_URL": "postgresql://u:wk_SECRET@[::1/db"}, "url is not a valid URL"),
        ("[delivery]\ntimeout = nan\n", {}, "timeout must be a number"),
        ("[delivery]\npoll_interval = inf\n", {}, "poll_interval must be a number"),
        ("", {"ENGAGE_WEBHOOK_URL": "https://h/x y?token=wk_SECRET"}, "url must not contain"),
    ],
)
def test_malformed_settings_are_one_line_errors_not_tracebacks(
    store: str, tmp_path: Path, config: str, env: dict[str, str], message: str
) -> None:
    if config:
        (tmp_path / "engage.toml").write_text(config)
    done = engage("--store", store, "deliver", env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert message in done.stderr
    assert "wk_SECRET" not in done.stderr
    assert done.stdout == ""


def test_follow_rests_a_destination_that_is_down(
    store: str, tmp_path: Path, receiver: Receiver
) -> None:
    (tmp_path / "engage.toml").write_text(
        f"[delivery]\npoll_interval = 0.02\nmax_attempts = 2\nbase_delay = 0.01\n"
        f'[destinations.hook]\ntype = "webhook"\nurl = "{receiver.url}"\nbatch_size = 10\n'
    )
    # down, and asking for an hour: more than max_retry_after, so the batch is parked at once
    receiver.script(*[Reply(503, headers=(("Retry-After", "3600"),))] * 100)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    follower = subprocess.Popen(
        [ENGAGE, "--store", store, "deliver", "--follow"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=clean,
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())
        time.sleep(0.4)  # some twenty polls
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(10)
    stderr = follower.stderr.read() if follower.stderr else ""
    assert (first["parked"], first["stopped"]) == (10, "outage")
    assert "resting 3600 s before trying again" in stderr  # the server's wait, not 30 s
    # one batch parked, not one per poll; the rest still pending
    (letter,) = json_lines(engage("--store", store, "dead-letters", "list").stdout)
    assert "asked to wait 3600 s" in str(letter["reason"])
    assert len(receiver.requests) == 1
    assert follower.returncode == 130
    assert "Traceback" not in stderr


def test_refused_settings_and_outages_over_the_cli(
    store: str, tmp_path: Path, receiver: Receiver
) -> None:
    (tmp_path / "engage.toml").write_text(
        f'[delivery]\nmax_attempts = 1\n[destinations.hook]\ntype = "webhook"\n'
        f'url = "{receiver.url}"\nbatch_size = 10\n'
    )
    receiver.script(Reply(401, body=b"bad key"))
    done = engage("--store", store, "deliver")
    assert done.returncode == 1  # someone must fix the settings
    (report,) = json_lines(done.stdout)
    assert (report["stopped"], report["dead_letters"], report["position"]) == (
        "misconfigured", 0, 0,
    )  # fmt: skip
    assert "settings were refused" in done.stderr
    assert "HTTP 401" in done.stderr

    receiver.script(Reply(400), Reply(400))  # two batches refused, parked; the rest goes
    done = engage("--store", store, "deliver")
    assert done.returncode == 0
    assert json_lines(done.stdout)[0]["dead_letters"] == 2

    receiver.reset()
    receiver.script(Reply(503), Reply(503))
    redriven = engage("--store", store, "dead-letters", "redrive")
    assert redriven.returncode == 1
    assert json_lines(redriven.stdout) == [{"redriven": 0, "events": 0, "still_parked": [1, 2]}]
    assert "1 more dead letters not tried" in redriven.stderr
    assert len(receiver.requests) == 1  # the destination was down: the second not tried

    receiver.reset()
    receiver.script(Reply(503))
    replayed = engage("--store", store, "replay", "--destination", "hook", "--from", "1")
    assert replayed.returncode == 1
    (answer,) = json_lines(replayed.stdout)
    assert (answer["stopped"], answer["parked"], answer["resume_from"]) == ("outage", 10, 11)
    assert answer["not_replayed"] == report["pending"] - 10
    assert "--from 11" in replayed.stderr
    assert len(receiver.requests) == 1
