"""`engage project [--follow] [VIEW ...]` as a user runs it, on a SQLite store: a one-off run
catches the views up and says what moved; `--follow` keeps them caught up, polling the file
(SQLite announces no commits), and stops with 130; an unknown view is a usage error naming the
known ones. `Running` is a worker process whose output the tests read as it comes (the
PostgreSQL worker tests use it too)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from adapters.views import VIEW_CLASSES

ENGAGE = str(Path(sys.executable).with_name("engage"))
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}


def engage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ENGAGE, *args], capture_output=True, text=True, timeout=60,
                          check=False, env={**CLEAN, **(env or {})})  # fmt: skip


def observations(path: Path, names: range, statuses: tuple[str, ...] = ("delivered",)) -> Path:
    """A JSON Lines file of provider reports: each message of `names` goes through
    `statuses` (each one an event of its own)."""
    path.write_text("".join(
        json.dumps({"channel": "sms", "provider": "twilio", "provider_message_id": f"SM{n}",
                    "status": status, "event_id": f"{n}-{status}"}) + "\n"
        for n in names for status in statuses
    ))  # fmt: skip
    return path


class Running:
    """An `engage` process; threads gather its stdout and stderr lines as they come, so a
    test waits for a line with a deadline instead of blocking on a pipe."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [ENGAGE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**CLEAN, **(env or {})},
        )  # fmt: skip
        self.out: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        for stream, kept, q in ((self.process.stdout, self.stdout, self.out),
                                (self.process.stderr, self.stderr, None)):  # fmt: skip
            threading.Thread(target=self._gather, args=(stream, kept, q), daemon=True).start()

    @staticmethod
    def _gather(stream: IO[str], kept: list[str], lines: queue.Queue[str] | None) -> None:
        for line in stream:
            kept.append(line)
            if lines is not None:
                lines.put(line)

    def line(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next line on stdout, as JSON (fails after `timeout` seconds)."""
        try:
            return dict(json.loads(self.out.get(timeout=timeout)))
        except queue.Empty:
            raise AssertionError(f"no line in {timeout} s; stderr: {self.stderr}") from None

    def said(self, text: str, timeout: float = 30.0) -> str:
        """The first stderr line holding `text`, waited for."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.stderr if text in line]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not said in {timeout} s; stderr: {self.stderr}")

    def stop(self, number: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(number)
        return self.process.wait(timeout)


def test_a_one_off_run_catches_up_the_views_it_names_and_says_what_moved(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    feed = observations(tmp_path / "a.jsonl", range(3))
    assert engage("--store", store, "observe", str(feed)).returncode == 0
    first = engage("--store", store, "project", "outbox", "funnel", "outbox")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"views": ["outbox", "funnel"], "events": 3, "position": 3}
    rest = engage("--store", store, "project")  # every view: the two others move
    assert json.loads(rest.stdout) == {"views": ["message_status", "subscriptions"],
                                       "events": 3, "position": 3}  # fmt: skip
    again = engage("--store", store, "project")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")  # nothing moved


def test_an_unknown_view_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    done = engage("--store", f"sqlite:///{tmp_path / 'engage.db'}", "project", "outbox", "nope")
    assert done.returncode == 2
    assert "unknown view 'nope'" in done.stderr
    assert all(name in done.stderr for name in VIEW_CLASSES)
    assert "Traceback" not in done.stderr


def test_follow_on_sqlite_polls_the_log_and_stops_with_130(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    worker = Running("--store", store, "project", "--follow", "outbox")
    try:
        for round_ in range(2):  # each new event is applied within a poll or two
            names = range(round_ * 10, round_ * 10 + 10)
            feed = observations(tmp_path / f"{round_}.jsonl", names)
            assert engage("--store", store, "observe", str(feed)).returncode == 0
            seen = worker.line(timeout=15)
            while seen["position"] < 10 * (round_ + 1):  # a catch-up may land mid-observe
                seen = worker.line(timeout=15)
            assert seen["views"] == ["outbox"]
        assert worker.stop(signal.SIGINT) == 130
    finally:
        worker.stop(signal.SIGKILL)
    assert "Traceback" not in "".join(worker.stderr)
