"""Many processes opening a fresh PostgreSQL store at the same moment all start, and none loses
its inputs: the tables, types, functions and schema are created once, under an advisory lock,
while the others wait for it.

Real processes on the suite's own server: each is started, imports everything and then waits
on a barrier (a file appearing), so they reach the empty database within a few milliseconds of
each other. `make test` runs one round; HYPOTHESIS_PROFILE=slow (`make test-slow`) several.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

import adapters.stores.postgres as postgres_recorders
from adapters.stores import open_application
from adapters.stores.postgres import creation_lock_key
from engage_core import Channel

PROCESSES = 8
MESSAGES = 15  # each process's own
ROUNDS = 6 if os.environ.get("HYPOTHESIS_PROFILE") == "slow" else 1

# Waits for the barrier, then runs the CLI's `observe` (or opens a tracking recorder): the
# imports are done before the wait, so the processes reach the database together.
WORKER = """
import sys, time
from pathlib import Path
from adapters.cli.main import main
from adapters.stores import store_env
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
url, barrier, ready, inputs, mode = sys.argv[1:]
Path(ready).touch()
while not Path(barrier).exists():
    time.sleep(0.002)
if mode == "observe":
    sys.exit(main(["--store", url, "observe", inputs]))
factory = InfrastructureFactory.construct(Environment("Engage", store_env(url)))
factory.tracking_recorder()
factory.close()
"""


def _inputs(directory: Path, worker: int) -> Path:
    path = directory / f"inputs-{worker}.jsonl"
    fields = {"channel": "sms", "provider": "twilio", "status": "delivered"}
    lines = [
        json.dumps(
            {**fields, "provider_message_id": f"W{worker}M{m}", "event_id": f"w{worker}-{m}"}
        )
        for m in range(MESSAGES)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def start_together(url: str, directory: Path, mode: str) -> list[subprocess.CompletedProcess[str]]:
    """Run PROCESSES workers released at one instant; what each printed and its exit code."""
    barrier = directory / "go"
    workers = []
    for worker in range(PROCESSES):
        ready = directory / f"ready-{worker}"
        arguments = [url, str(barrier), str(ready), str(_inputs(directory, worker)), mode]
        workers.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, *arguments], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=directory,
        ))  # fmt: skip
    deadline = time.monotonic() + 60
    while not all((directory / f"ready-{w}").exists() for w in range(PROCESSES)):
        assert time.monotonic() < deadline, "the workers never became ready"
        assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
        time.sleep(0.01)
    barrier.touch()
    done = []
    for process in workers:
        stdout, stderr = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return done


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_eight_first_starts_at_once_all_ingest(
    postgres_url: str, tmp_path: Path, round_: int
) -> None:
    url = f"{postgres_url}?schema=engage_first_start"  # neither the schema nor a table exists
    done = start_together(url, tmp_path, "observe")
    for result in done:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["applied"] == MESSAGES, result.stdout
    app = open_application(url)
    try:
        for worker in range(PROCESSES):
            for m in range(MESSAGES):
                found = app.find_message(Channel.SMS, f"W{worker}M{m}")
                assert found is not None, (worker, m)
                assert found.status == "delivered"
    finally:
        app.close()


def test_eight_first_tracking_recorders_at_once(postgres_url: str, tmp_path: Path) -> None:
    """The tracking table (for views kept in PostgreSQL) is created under the same lock."""
    done = start_together(f"{postgres_url}?schema=engage_tracking", tmp_path, "tracking")
    assert [r.returncode for r in done] == [0] * PROCESSES, [r.stderr for r in done]


def test_a_start_waits_for_the_creator_and_says_so_when_it_gives_up(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process stuck holding the lock cannot hang every other start for ever."""
    monkeypatch.setattr(postgres_recorders, "LOCK_WAIT_SECONDS", 1)
    with psycopg.connect(postgres_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (creation_lock_key("public"),))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="waited 1 s for another process to finish"):
            open_application(postgres_url)
        assert 0.9 < time.monotonic() - started < 10
    app = open_application(postgres_url)  # the holder gone, the next start goes ahead
    app.close()
