"""A private PostgreSQL server for the test session: initdb into a temporary directory, listen
on 127.0.0.1 on a free port, stop at the end. `make test` installs PostgreSQL with apt-get when
it is missing. Set ENGAGE_TEST_POSTGRES_URL (a superuser URL) to use a server of your own."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

PASSWORD = "engage-tests"


def _major(initdb: str) -> float:
    try:
        return float(Path(initdb).parents[1].name)
    except ValueError:
        return 0.0


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    on_path = shutil.which("initdb")
    if found:
        return Path(found[-1]).parent
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "PostgreSQL is not installed: run `make test` (it installs it with apt-get) or set "
        "ENGAGE_TEST_POSTGRES_URL to a server of your own"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresStartError(RuntimeError):
    """The test server could not be set up; the message carries PostgreSQL's own words."""


def _run(command: list[str], log: Path | None = None) -> None:
    program = Path(command[0]).name
    if os.geteuid() == 0:  # initdb refuses to run as root
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
        raise PostgresStartError(
            f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
        )


@contextmanager
def postgres_server() -> Iterator[str]:
    """A superuser URL of a running server, for the duration of the block."""
    external = os.environ.get("ENGAGE_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    with private_postgres_server() as (url, _):
        yield url


@contextmanager
def private_postgres_server() -> Iterator[tuple[str, Callable[[], None]]]:
    """A server of the block's own (never a shared one: it may be restarted), its superuser
    URL and a function restarting it in place on the same port, as a primary's restart does:
    every connection is dropped, and the server is back when the function returns."""
    binaries = _binaries()
    root = Path(tempfile.mkdtemp(prefix="engage-pg-"))
    data, log = root / "data", root / "server.log"
    started = False
    try:
        (root / "password").write_text(PASSWORD)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(root / "password", "postgres")
        _run([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A",
              "scram-sha-256", "--pwfile", str(root / "password"), "-E", "UTF8"])  # fmt: skip
        options = ""
        for attempt in range(5):  # a free port can be taken between probing and listening
            port = _free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
            try:
                _run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
                      options, "start"], log)  # fmt: skip
            except PostgresStartError:
                if attempt == 4:
                    raise
                continue
            started = True
            break

        def restart() -> None:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-m", "fast",
                  "-o", options, "restart"], log)  # fmt: skip

        yield f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/postgres", restart
    finally:
        if started:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(superuser_url: str) -> str:
    """A new empty database on the server; its URL."""
    name = f"engage_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(superuser_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return superuser_url.rsplit("/", 1)[0] + f"/{name}"
