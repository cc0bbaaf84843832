"""Fault injection on PostgreSQL with real processes: ingest, projection and delivery workers
on one database, killed with SIGKILL at random points and restarted, and the server itself
restarted in the middle of the run (every connection dropped).

In a seeded loop, three `engage observe` processes feed overlapping, shuffled, duplicated
traffic; two `engage project --follow` workers keep the views and two `engage deliver --follow`
workers (one active, one standing by) deliver to a JSON Lines file and a real HTTP receiver.
One of them is killed at a random moment and started again, round after round; a rebuild runs
in the middle; the server restarts once. At the end, with everything stopped:
- every view equals a rebuild of the same log, row for row (digests), and the outcome (the
  funnel, each message's status, the outbox's events by name) equals a fault-free run of the
  same inputs in one process on a fresh database;
- the outbox holds no messageId twice, and every outbox event reached both destinations,
  brought there by the workers themselves;
- a messageId reached the file more than once only for a batch in flight when its deliverer
  was killed or the server restarted (at least once, bounded).

`make test` runs one seed; `make test-slow` (HYPOTHESIS_PROFILE=slow) three, longer.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.faults.test_processes import Worker, _alive, _settle, engage, jsonl_ids, traffic
from tests.http_receiver import Receiver, running_receiver
from tests.postgres_server import fresh_database, private_postgres_server

SLOW = os.environ.get("HYPOTHESIS_PROFILE") == "slow"
SEEDS = [21, 22, 23] if SLOW else [21]
ROUNDS = 24 if SLOW else 6
FILE_BATCH = 37


def _config(folder: Path, receiver: Receiver) -> None:
    (folder / "engage.toml").write_text(
        "[delivery]\nmax_attempts = 50\nbase_delay = 0.01\nmax_delay = 0.2\n"
        "poll_interval = 0.5\ncooldown = 0.2\nmax_cooldown = 0.5\n\n"
        '[destinations.file]\ntype = "jsonl"\npath = "delivered/events.jsonl"\n'
        f"batch_size = {FILE_BATCH}\n\n"
        f'[destinations.hook]\ntype = "webhook"\nurl = "{receiver.url}/in"\nbatch_size = 23\n'
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_workers_and_a_restarted_server_lose_and_duplicate_nothing(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    feeds = traffic(seed, tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    with private_postgres_server() as (server, restart), running_receiver() as receiver:
        _config(tmp_path, receiver)
        env = {**os.environ, "ENGAGE_STORE": fresh_database(server) + "?schema=engage",
               "ENGAGE_CONFIG": str(tmp_path / "engage.toml"),
               "ENGAGE_VIEW_PAGE_SIZE": str(rng.randint(1, 3))}  # fmt: skip
        ingests = [
            Worker(f"ingest-{n}", ["observe", str(feed), "--batch-size", "25"], env, logs)
            for n, feed in enumerate(feeds)
        ]
        daemons = [
            Worker("project-all", ["project", "--follow"], env, logs),
            Worker("project-outbox", ["project", "--follow", "outbox"], env, logs),
            Worker("deliver-a", ["deliver", "--follow"], env, logs),
            Worker("deliver-b", ["deliver", "--follow"], env, logs),
        ]
        rebuild = Worker("rebuild", ["rebuild", "--all"], env, logs)
        try:
            _faults(rng, restart, ingests, daemons, rebuild)
            _delivered_by_the_workers(env, tmp_path, receiver, daemons)
        finally:  # whatever failed, no worker outlives the test
            for worker in [*ingests, *daemons, rebuild]:
                worker.kill()
        kills = sum(w.kills for w in daemons if w.name.startswith("deliver"))
        env["ENGAGE_VIEW_PAGE_SIZE"] = "1000"  # the checks' own catch-ups: no faults to meet
        _check(env, tmp_path, receiver, kills, [*ingests, *daemons, rebuild])
        quiet = {**env, "ENGAGE_STORE": fresh_database(server) + "?schema=engage"}
        for feed in feeds:
            engage(quiet, "observe", str(feed))
        assert _outcome(quiet) == _outcome(env), "the run's outcome differs from a quiet run's"


def _faults(
    rng: random.Random, restart: Callable[[], None], ingests: list[Worker],
    daemons: list[Worker], rebuild: Worker,
) -> None:  # fmt: skip
    """The rounds: a random worker killed and started again each round, a rebuild in the
    middle and the server restarted once; then every one-off command runs to its end."""
    for worker in [*ingests, *daemons]:
        worker.start()
    for round_ in range(ROUNDS):
        time.sleep(rng.uniform(0.3, 1.0))
        _alive(daemons)
        if round_ == ROUNDS // 2:
            rebuild.start()
        if round_ == ROUNDS // 3:
            restart()  # the primary restarts: every worker loses its connections
        _settle([*ingests, rebuild])
        victims = [w for w in [*ingests, *daemons] if w.running()]
        fewest = min(w.kills for w in victims)
        victim = rng.choice([w for w in victims if w.kills == fewest])
        victim.kill()
        victim.start()
    for worker in [*ingests, rebuild]:  # each one-off command, at last, runs to its end
        while not worker.finished:
            if not worker.running():
                worker.start()
            _settle([worker], timeout=120)


def _delivered_by_the_workers(
    env: dict[str, str], folder: Path, receiver: Receiver, daemons: list[Worker]
) -> None:
    """The workers themselves, not a last one-off run, bring every event downstream; then
    they stop gracefully."""
    ids = {json.loads(line)["messageId"] for line in engage(env, "events").stdout.splitlines()}
    deadline = time.monotonic() + 90
    while not ids <= jsonl_ids(folder / "delivered") & set(receiver.acknowledged_ids()):
        _alive(daemons)
        assert time.monotonic() < deadline, "the workers did not bring every event downstream"
        time.sleep(0.2)
    for daemon in daemons:
        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.wait(60) in {0, 130}, daemon.stderr()


def _file_lines(folder: Path) -> list[str]:
    found: list[str] = []
    for path in sorted((folder / "delivered").glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                found.append(orjson.loads(line)["messageId"])
            except orjson.JSONDecodeError:
                continue  # a line a kill cut short
    return found


def _check(
    env: dict[str, str], folder: Path, receiver: Receiver, deliverer_kills: int,
    workers: list[Worker],
) -> None:  # fmt: skip
    for worker in workers:
        assert "Traceback" not in worker.stderr(), worker.name
    live = json.loads(engage(env, "digest").stdout)
    rebuilt = json.loads(engage(env, "rebuild", "--all").stdout)
    for name, view in rebuilt.items():
        assert (view["rows"], view["digest"]) == (live[name]["rows"], live[name]["digest"]), name
    ids = [json.loads(line)["messageId"] for line in engage(env, "events").stdout.splitlines()]
    assert ids, "the run published events"
    assert len(ids) == len(set(ids)), "an event is in the outbox twice"
    assert not set(ids) - set(_file_lines(folder)), "events missing from the file"
    assert not set(ids) - set(receiver.acknowledged_ids()), "events never acknowledged"
    # again only what a killed deliverer (or the restart) left in flight: a batch each
    again = sum(n - 1 for n in Counter(_file_lines(folder)).values())
    assert again <= FILE_BATCH * (deliverer_kills + 1), (again, deliverer_kills)


def _outcome(env: dict[str, str]) -> dict[str, Any]:
    """What a run of these inputs comes to, apart from arrival order and wall-clock times:
    the funnel's digest (its counts, and each message's status and milestones reached, in
    `funnel_messages`) and how many events of each name the outbox published."""
    engage(env, "project")
    events = Counter(
        json.loads(line)["event"] for line in engage(env, "events").stdout.splitlines()
    )
    funnel = json.loads(engage(env, "digest", "funnel").stdout)["funnel"]["digest"]
    return {"events": events, "funnel": funnel}
