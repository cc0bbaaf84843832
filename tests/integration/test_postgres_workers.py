"""The worker roles on a real PostgreSQL server, with real processes.

- `LogWaiter` wakes within moments of a commit (LISTEN/NOTIFY), polls while the server is
  down without raising, and listens again once it is back (a private server, stopped and
  started again).
- `engage project --follow` applies what another process writes and, killed with SIGKILL
  part-way through a catch-up and started again, resumes: its views end equal to a rebuild's.
- `engage deliver --follow` twice on one store: one delivers, the other stands by (only one
  advisory lock granted); the holder killed with SIGKILL mid-traffic, the other takes over,
  and every outbox messageId reaches the JSON Lines file, the only repeats being the one batch
  the holder was writing when it died (the at-least-once window). A one-off `deliver` waits
  for the lock and runs once the follower stops.
- A holder whose lock connection is cut notices before its next batch.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from adapters.destinations import JsonlDestination, Ledger, load_settings
from adapters.destinations.base import Batch
from adapters.destinations.exclusive import Guarded, RoleLost, role_lock
from adapters.stores import open_application
from adapters.views import Views, catch_up, rebuild, views_location
from adapters.views.waiting import LogWaiter
from adapters.web.background import Follower
from engage_core import EngageApplication, Observation
from tests.cli.test_project_verb import Running, engage, observations
from tests.postgres_server import _binaries, _run, fresh_database, postgres_server

BATCH = 5  # the JSON Lines destination's batch size: the most a killed holder can repeat


def delivered(first: int, count: int) -> list[Observation]:
    return [Observation.create("sms", "twilio", f"SMd{n}", "delivered")
            for n in range(first, first + count)]  # fmt: skip


@contextmanager
def opened(url: str) -> Iterator[tuple[EngageApplication, Views]]:
    app = open_application(url)
    views = Views(views_location(url), upstream=app.name)
    try:
        yield app, views
    finally:
        views.close()
        app.close()


def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def _positions(views: Views) -> list[int]:
    return [view.position() for view in views.by_name.values()]


def test_the_log_waiter_wakes_within_moments_of_a_commit(postgres_url: str) -> None:
    with opened(postgres_url) as (app, _), opened(postgres_url) as (writer, _):
        waiter = LogWaiter(app)
        try:
            assert waiter.wait_listening(10)
            assert waiter.listening
            assert waiter.wait(5)  # the wake every (re)connection gives
            assert not waiter.wait(0.2)  # nothing committed: the timeout
            for n in range(3):
                began = time.monotonic()
                report = Observation.create("sms", "twilio", f"SM{n}", "delivered")
                threading.Timer(0.1, writer.observe, [[report]]).start()
                assert waiter.wait(30)  # a poll would take the whole 30 s
                assert time.monotonic() - began < 2
        finally:
            waiter.close()


class Server:
    """The private test server's own controls: stopped, and started again as
    `postgres_server` started it (its data directory, port and socket directory)."""

    def __init__(self, superuser_url: str) -> None:
        with psycopg.connect(superuser_url, autocommit=True) as connection:
            row = connection.execute("SHOW data_directory").fetchone()
        assert row is not None
        self.data = Path(row[0])
        self.port = urlsplit(superuser_url).port
        log = self.data.parent / "server.log"
        self.pg_ctl = [str(_binaries() / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(log)]

    def stop(self) -> None:
        _run([*self.pg_ctl, "-m", "fast", "stop"])

    def start(self) -> None:
        root = self.data.parent
        _run([*self.pg_ctl, "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {root} "
              "-c fsync=off", "start"])  # fmt: skip


@pytest.mark.skipif(bool(os.environ.get("ENGAGE_TEST_POSTGRES_URL")),
                    reason="restarts a private server")  # fmt: skip
def test_the_waiter_and_the_workers_outlive_a_server_restart(tmp_path: Path) -> None:
    """The waiter polls while the server is down, without raising, and listens again once it
    is back; `project --follow` and `deliver --follow` go on with what is written after."""
    with postgres_server() as superuser:
        url = fresh_database(superuser)
        server = Server(superuser)
        app = open_application(url)
        waiter = LogWaiter(app)
        config = tmp_path / "engage.toml"
        config.write_text(f'[destinations.x]\ntype = "jsonl"\npath = "{tmp_path / "out.jsonl"}"\n')
        app.observe(delivered(0, 2))
        deliverer = ("deliver", "--follow", "--config", str(config))
        workers = [
            Running("--store", url, "project", "--follow"),
            Running("--store", url, *deliverer),
        ]
        try:
            assert waiter.wait_listening(10)
            assert waiter.wait(5)
            for worker in workers:
                assert worker.line()["position"] == 2
            server.stop()
            _until(lambda: not waiter.listening, 10, "the lost connection went unnoticed")
            began = time.monotonic()
            assert not waiter.wait(0.5)  # a poll: the timeout, no error
            assert time.monotonic() - began >= 0.5
            server.start()
            assert waiter.wait_listening(15)
            assert waiter.wait(5)  # back: woken once, for what may have been missed
            with opened(url) as (writer, _):
                began = time.monotonic()
                writer.observe(delivered(2, 1))
                assert waiter.wait(30)
                assert time.monotonic() - began < 2
            for worker in workers:
                assert worker.line()["position"] == 3
                assert worker.stop() == 130
        finally:
            waiter.close()
            app.close()
            for worker in workers:
                worker.stop(signal.SIGKILL)
    for worker in workers:
        assert "listening for new events again" in "".join(worker.stderr)
        assert "Traceback" not in "".join(worker.stderr)


def test_project_follow_keeps_up_and_resumes_after_sigkill(
    postgres_url: str, tmp_path: Path
) -> None:
    small = {"ENGAGE_VIEW_PAGE_SIZE": "2"}  # many pages: a kill lands between or inside them
    worker = Running("--store", postgres_url, "project", "--follow", env=small)
    try:
        feed = observations(tmp_path / "first.jsonl", range(5))
        assert engage("--store", postgres_url, "observe", str(feed)).returncode == 0
        seen = worker.line()
        while seen["position"] < 5:
            seen = worker.line()
        with opened(postgres_url) as (app, views):
            feed = observations(tmp_path / "more.jsonl", range(5, 125), ("sent", "delivered"))
            assert engage("--store", postgres_url, "observe", str(feed)).returncode == 0
            last = int(app.recorder.max_notification_id() or 0)
            _until(lambda: min(_positions(views)) > 5, 30, "the worker did not start")
            assert min(_positions(views)) < last, "caught up before the kill: too few events"
            assert worker.stop(signal.SIGKILL) == -signal.SIGKILL
            stopped_at = _positions(views)
            worker = Running("--store", postgres_url, "project", "--follow", env=small)
            _until(lambda: _positions(views) == [last] * 4, 30, "the restart did not resume")
            feed = observations(tmp_path / "last.jsonl", range(125, 128))
            assert engage("--store", postgres_url, "observe", str(feed)).returncode == 0
            newest = int(app.recorder.max_notification_id() or 0)
            while worker.line()["position"] < newest:
                pass
            assert worker.stop(signal.SIGTERM) == 130
            live = {view.name: view.digest() for view in views.by_name.values()}
            rebuild(app, list(views.by_name.values()))
            assert {view.name: view.digest() for view in views.by_name.values()} == live
            assert min(stopped_at) < last
    finally:
        worker.stop(signal.SIGKILL)
    assert not any("Traceback" in line for line in worker.stderr)


def _holders(url: str) -> int:
    """Sessions holding (granted) an advisory lock on a connection made for the deliver lock."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE "
            "l.locktype = 'advisory' AND l.granted AND a.application_name = 'engage deliver lock' "
            "AND a.datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def _written(path: Path) -> list[dict[str, Any]]:
    """The file's lines; a line a killed writer cut short is no event."""
    found = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return found


class Traffic(threading.Thread):
    """Another writer: three messages reported delivered every few milliseconds until
    stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.done, self.count = url, threading.Event(), 0

    def run(self) -> None:
        app = open_application(self.url)
        while not self.done.wait(0.005):
            app.observe([Observation.create("sms", "twilio", f"SMt{self.count}-{n}", "delivered")
                         for n in range(3)])  # fmt: skip
            self.count += 3
        app.close()


def test_one_deliverer_at_a_time_and_the_standby_takes_over_from_a_killed_holder(
    postgres_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    config = tmp_path / "engage.toml"
    config.write_text(f'[delivery]\npoll_interval = 0.5\n[destinations.x]\ntype = "jsonl"\n'
                      f'path = "{out}"\nbatch_size = {BATCH}\n')  # fmt: skip
    feed = observations(tmp_path / "seed.jsonl", range(20))
    assert engage("--store", postgres_url, "observe", str(feed)).returncode == 0
    command = ("--store", postgres_url, "deliver", "--follow", "--config", str(config))
    holder = Running(*command)
    standby = Running(*command)  # may start first: then it is the holder, so wait for one
    traffic = Traffic(postgres_url)
    try:
        _until(lambda: holder.stdout or standby.stdout, 30, "nobody delivered")
        if standby.stdout:
            holder, standby = standby, holder
        assert "standing by" in standby.said("another process holds the deliver lock")
        traffic.start()
        for _ in range(6):  # delivering as the traffic comes
            holder.line()
        assert _holders(postgres_url) == 1
        assert standby.stdout == []  # the standby sent nothing
        assert holder.stop(signal.SIGKILL) == -signal.SIGKILL
        standby.said("took the deliver lock over")
        standby.line()
        traffic.done.set()
        traffic.join(10)
        with opened(postgres_url) as (app, views):
            catch_up(app, [views.outbox])
            ids = {entry.message_id for entry in views.outbox.entries()}
        _until(lambda: ids <= {e["messageId"] for e in _written(out)}, 30, "not all delivered")
        once = Running("--store", postgres_url, "deliver", "--config", str(config))
        once.said("waiting up to 60 s")  # the one-off run waits for the follower
        assert standby.stop(signal.SIGTERM) == 130
        assert once.process.wait(30) == 0, once.stderr
    finally:
        traffic.done.set()
        for process in (holder, standby):
            process.stop(signal.SIGKILL)
    written = _written(out)
    counts = collections.Counter(e["messageId"] for e in written)
    assert set(counts) == ids
    repeated = sorted({e["position"] for e in written if counts[e["messageId"]] > 1})
    # at least once: only the batch being written when the holder died, and that once more
    assert set(counts.values()) <= {1, 2}
    assert len(repeated) <= BATCH
    assert repeated == list(range(repeated[0], repeated[0] + len(repeated))) if repeated else True


def test_a_holder_whose_lock_connection_is_cut_notices_before_its_next_batch(
    postgres_url: str, tmp_path: Path
) -> None:
    with opened(postgres_url) as (_, views):
        first, second = role_lock(views.datastore), role_lock(views.datastore)
        destination = Guarded(JsonlDestination("x", tmp_path / "out.jsonl"), first)
        try:
            assert first.acquire()
            assert not second.acquire()
            with psycopg.connect(postgres_url, autocommit=True) as admin:  # a superuser's
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                              "application_name = 'engage deliver lock' AND datname = "
                              "current_database() AND pid IN (SELECT pid FROM pg_locks WHERE "
                              "locktype = 'advisory' AND granted)")  # fmt: skip
            assert second.wait(10)  # the server let it go with the session
            with pytest.raises(RoleLost):
                destination.send(Batch((), ()))
            assert not first.held
            assert not (tmp_path / "out.jsonl").exists()  # nothing sent
            second.release()
            assert first.wait(10)  # and it takes it again once free
        finally:
            first.release()
            second.release()


def test_service_followers_on_several_hosts_deliver_from_one(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two services' followers on one database (as on two hosts): one delivers, the other
    keeps the views and stands by; the first stopped, the second delivers what comes next."""
    out = tmp_path / "out.jsonl"
    config = tmp_path / "engage.toml"
    config.write_text(f'[delivery]\npoll_interval = 0.2\n[destinations.x]\ntype = "jsonl"\n'
                      f'path = "{out}"\n')  # fmt: skip
    followers = []
    with opened(postgres_url) as (writer, _), ExitStack() as stack:
        for _ in range(2):
            app, views = stack.enter_context(opened(postgres_url))
            settings = load_settings(postgres_url, str(config))
            follower = Follower(app, views, Ledger(views.datastore), settings,
                                role_lock(views.datastore), poll_interval=0.2)  # fmt: skip
            follower.start()
            stack.callback(follower.stop)
            followers.append(follower)
        writer.observe(delivered(0, 10))
        _until(lambda: len(_written(out)) == 10, 15, "the first ten were not delivered")
        holding = [f for f in followers if f.lock.held]
        assert len(holding) == 1
        (standby,) = [f for f in followers if f is not holding[0]]
        assert holding[0].stop()
        writer.observe(delivered(10, 5))
        _until(lambda: len(_written(out)) == 15, 15, "the standby did not take over")
        assert standby.lock.held
    assert sorted(e["messageId"] for e in _written(out)) == sorted(
        {e["messageId"] for e in _written(out)}
    )  # each once: no holder died with a batch in flight
