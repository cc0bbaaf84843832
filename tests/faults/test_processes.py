"""Fault injection with real processes (ARCHITECTURE.md invariants 4, 5 and 7): several
`engage` processes on one SQLite store, killed with SIGKILL at random points and restarted.

In a seeded loop, three ingest processes feed overlapping, shuffled, duplicated traffic; a
follower (`events --follow`) and a deliverer (`deliver --follow`, to a JSON Lines file and to a
real HTTP receiver) run beside them; one of them is killed at a random moment and started
again, round after round; `rebuild --all` runs in the middle (and is sometimes killed too). At
the end, with everything stopped:
- every view equals a quiet single-process rebuild of a copy of the same log, row for row;
- no outbox event is missing downstream (in the file or acknowledged by the receiver), and
  none is in the outbox twice;
- the follower and the deliverer, never stopping by themselves, brought every event downstream
  on their own, and the follower printed no event the outbox does not hold.

`make test` runs a short loop; `make test-slow` (HYPOTHESIS_PROFILE=slow) a longer one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson
import pytest

from engage_core.observations import Observation
from engage_core.simulation import simulate
from tests.http_receiver import Receiver, running_receiver

ENGAGE = str(Path(sys.executable).with_name("engage"))
SLOW = os.environ.get("HYPOTHESIS_PROFILE") == "slow"
SEEDS = [11, 12, 13] if SLOW else [11]
ROUNDS = 40 if SLOW else 12
MESSAGES = 600 if SLOW else 250


def observation_line(item: Observation) -> bytes:
    return orjson.dumps({
        "channel": item.channel.value, "provider": item.provider,
        "provider_message_id": item.provider_message_id, "status": item.status,
        "occurred_at": item.occurred_at.isoformat() if item.occurred_at else None,
        "event_id": item.event_id, "details": dict(item.details),
    })  # fmt: skip


def traffic(seed: int, folder: Path, feeds: int = 3) -> list[Path]:
    """`feeds` JSON Lines files of the same traffic, each an overlapping share of it (every
    line in at least one file), shuffled and with duplicates, as retrying providers send."""
    rng = random.Random(seed)
    lines = [
        observation_line(item)
        for item in simulate(seed=seed, messages=MESSAGES).inputs
        if isinstance(item, Observation)
    ]
    shares: list[list[bytes]] = [[] for _ in range(feeds)]
    for line in lines:
        for feed in rng.sample(range(feeds), rng.randint(1, feeds)):
            shares[feed].append(line)
            if rng.random() < 0.1:
                shares[feed].append(line)
    files = []
    for n, share in enumerate(shares):
        rng.shuffle(share)
        path = folder / f"feed-{n}.jsonl"
        path.write_bytes(b"\n".join(share) + b"\n")
        files.append(path)
    return files


class Worker:
    """One `engage` process of the run, started again after every kill."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.args, self.env, self.logs = name, args, env, logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.finished = False  # ran to completion (a one-off command that exited 0)

    def start(self) -> None:
        self.starts += 1
        out: IO[bytes] = (self.logs / f"{self.name}.{self.starts}.out").open("wb")
        err: IO[bytes] = (self.logs / f"{self.name}.{self.starts}.err").open("wb")
        self.process = subprocess.Popen(
            [ENGAGE, *self.args], stdout=out, stderr=err, env=self.env, start_new_session=True
        )
        out.close()
        err.close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
            self.kills += 1

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stderr(self) -> str:
        return "".join(p.read_text() for p in sorted(self.logs.glob(f"{self.name}.*.err")))

    def outputs(self) -> Iterator[bytes]:
        for path in sorted(self.logs.glob(f"{self.name}.*.out")):
            yield from path.read_bytes().splitlines()


def engage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [ENGAGE, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )
    assert done.returncode == 0, f"engage {' '.join(args)}: {done.stderr}"
    assert "Traceback" not in done.stderr
    return done


def copy_log(source: Path, target: Path) -> None:
    """A consistent copy of the event log alone (SQLite's backup API: WAL included)."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)


def jsonl_ids(folder: Path) -> set[str]:
    """messageIds in a JSON Lines destination's files; a line a kill cut short is no event."""
    found: set[str] = set()
    for path in folder.glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            try:
                found.add(orjson.loads(line)["messageId"])
            except orjson.JSONDecodeError:
                continue
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_and_restarted_processes_lose_and_duplicate_nothing(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    store = tmp_path / "engage.db"
    logs = tmp_path / "logs"
    logs.mkdir()
    feeds = traffic(seed, tmp_path)
    with running_receiver() as receiver:
        _run(rng, store, logs, feeds, receiver, tmp_path)


def _run(
    rng: random.Random, store: Path, logs: Path, feeds: list[Path], receiver: Receiver,
    folder: Path,
) -> None:  # fmt: skip
    (folder / "engage.toml").write_text(
        "[delivery]\nmax_attempts = 50\nbase_delay = 0.01\nmax_delay = 0.2\n"
        "poll_interval = 0.2\ncooldown = 0.2\nmax_cooldown = 0.5\n\n"
        '[destinations.file]\ntype = "jsonl"\npath = "delivered/events.jsonl"\n'
        "batch_size = 37\n\n"
        f'[destinations.hook]\ntype = "webhook"\nurl = "{receiver.url}/in"\nbatch_size = 23\n'
    )
    # small pages: many transactions, so kills and rebuilds land between pages of each other
    env = {**os.environ, "ENGAGE_STORE": f"sqlite:///{store}",
           "ENGAGE_VIEW_PAGE_SIZE": str(rng.randint(1, 2))}  # fmt: skip
    ingests = [
        Worker(f"ingest-{n}", ["observe", str(feed), "--batch-size", "25"], env, logs)
        for n, feed in enumerate(feeds)
    ]
    follower = Worker("follower", ["events", "--follow"], env, logs)
    deliverer = Worker("deliverer", ["deliver", "--follow"], env, logs)
    # two rebuilds, the second started while the first (and the followers) are paging
    rebuilders = [Worker(f"rebuild-{n}", ["rebuild", "--all"], env, logs) for n in range(2)]
    daemons = [follower, deliverer]
    for worker in [*ingests, *daemons]:
        worker.start()
    rebuilt_at = ROUNDS // 2
    for round_ in range(ROUNDS):
        time.sleep(rng.uniform(0.3, 1.2))
        _alive(daemons)
        if round_ == rebuilt_at:
            rebuilders[0].start()
            _while_rebuilding(store)  # the views are paging from 0 now: drop them again
            rebuilders[1].start()
        _settle([*ingests, *rebuilders])
        victims = [w for w in [*ingests, *daemons, *rebuilders] if w.running()]
        if victims:  # each one killed once before any is killed again
            fewest = min(w.kills for w in victims)
            victim = rng.choice([w for w in victims if w.kills == fewest])
            victim.kill()
            if victim not in rebuilders:  # a killed rebuild is left half done: others finish it
                victim.start()
    for worker in [*ingests, *rebuilders]:  # each one-off command, at last, runs to its end
        while not worker.finished:
            if not worker.running():
                worker.start()
            _settle([worker], timeout=120)
    assert follower.kills, "the follower was killed on the way"
    assert deliverer.kills, "the deliverer was killed on the way"
    # the daemons themselves, not a last one-off run, must bring everything downstream
    ids = {json.loads(line)["messageId"] for line in engage(env, "events").stdout.splitlines()}
    deadline = time.monotonic() + 90
    while not ids <= printed_by(follower) & jsonl_ids(folder / "delivered") & set(
        receiver.acknowledged_ids()
    ):
        _alive(daemons)
        assert time.monotonic() < deadline, "the follower and deliverer did not catch up"
        time.sleep(0.2)
    for daemon in daemons:  # a graceful stop at a safe point
        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.wait(60) in {0, 130}, daemon.stderr()
    _check(env, store, folder, receiver, follower, [*ingests, *rebuilders, deliverer])


def _alive(daemons: list[Worker]) -> None:
    """A daemon that stopped without being killed failed: say why."""
    for daemon in daemons:
        if not daemon.running():
            assert daemon.process is not None
            raise AssertionError(
                f"{daemon.name} exited {daemon.process.returncode} by itself: {daemon.stderr()}"
            )


def printed_by(follower: Worker) -> set[str]:
    """The messageIds the follower printed, over all its runs (a line a kill cut short is
    no event)."""
    printed: set[str] = set()
    for line in follower.outputs():
        try:
            printed.add(orjson.loads(line)["messageId"])
        except orjson.JSONDecodeError:
            continue
    return printed


def _while_rebuilding(store: Path, timeout: float = 30.0) -> None:
    """Wait until the outbox is being rebuilt: its position above 0, short of the log's."""
    views = store.with_name(f"{store.stem}.views.db")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(store, timeout=5) as log, sqlite3.connect(views, timeout=5) as db:
                last = log.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] or 0
                row = db.execute(
                    "SELECT notification_id FROM tracking WHERE application_name LIKE '%:outbox'"
                ).fetchone()
        except sqlite3.Error:
            row, last = None, 0
        if row is not None and 0 < row[0] < last:
            return
        time.sleep(0.01)


def _settle(workers: list[Worker], timeout: float = 0.0) -> None:
    """Note which one-off commands finished; wait up to `timeout` for them."""
    deadline = time.monotonic() + timeout
    for worker in workers:
        if worker.process is None or worker.finished:
            continue
        remaining = max(0.0, deadline - time.monotonic())
        try:
            code = worker.process.wait(remaining) if timeout else worker.process.poll()
        except subprocess.TimeoutExpired:
            continue
        if code == 0:
            worker.finished = True
        elif code is not None and code != -signal.SIGKILL:
            raise AssertionError(f"{worker.name} exited {code}: {worker.stderr()}")


def _check(
    env: dict[str, str], store: Path, folder: Path, receiver: Receiver, follower: Worker,
    others: list[Worker],
) -> None:  # fmt: skip
    for worker in [follower, *others]:
        assert "Traceback" not in worker.stderr(), worker.name
    live = json.loads(engage(env, "digest").stdout)
    quiet = folder / "quiet"
    quiet.mkdir()
    copy_log(store, quiet / "engage.db")
    rebuilt = json.loads(engage(env, "--store", f"sqlite:///{quiet / 'engage.db'}",
                                "rebuild", "--all").stdout)  # fmt: skip
    for name, view in rebuilt.items():
        assert (view["rows"], view["digest"]) == (live[name]["rows"], live[name]["digest"]), name
    outbox = [json.loads(line) for line in engage(env, "events").stdout.splitlines()]
    ids = [event["messageId"] for event in outbox]
    assert ids, "the run published events"
    assert len(ids) == len(set(ids)), "an event is in the outbox twice"
    missing_in_file = set(ids) - jsonl_ids(folder / "delivered")
    assert not missing_in_file, f"{len(missing_in_file)} events missing from the file"
    missing_downstream = set(ids) - set(receiver.acknowledged_ids())
    assert not missing_downstream, f"{len(missing_downstream)} events never acknowledged"
    printed = printed_by(follower)
    assert printed == set(ids), "the follower printed other events than the outbox holds"
