"""The server side of the "service" workload: `engage serve` as a subprocess on 127.0.0.1, over a
fresh SQLite file, and (for `--profile`) the same command under cProfile.

`served()` starts `engage serve --port 0` on a store of its own, reads the address it prints,
waits until every worker has logged uvicorn's "Application startup complete", yields, then
stops it with SIGTERM (uvicorn drains the requests in flight) and checks it exited 0. Views and
destinations are not kept up in the server (`--no-deliver` where `engage serve` has it, else
`ENGAGE_SERVE_DELIVER=0`): the workload measures the webhook path, as the in-process baseline
runs it.

`python -m benchmarks.service_server serve …` runs `engage`'s own `main` under cProfile when
`ENGAGE_BENCH_SERVER_PROFILE` names a file: one profiler per thread (the webhook work runs in
worker threads, the HTTP parsing on the event loop's), merged and written there at exit.
"""

from __future__ import annotations

import cProfile
import functools
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO, Any

import attrs
import orjson

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://engage.example.com"  # what the clients sign over (`--public-url`)
PROFILE_VAR = "ENGAGE_BENCH_SERVER_PROFILE"
_STARTED = "Application startup complete"
_START_SECONDS = 60.0
_STOP_SECONDS = 40.0


class _Lines:
    """A pipe's lines, read by a thread of their own, so waiting for one can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, found: Callable[[list[str]], bool], alive: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline and alive():
            if found(self.lines):
                return True
            time.sleep(0.02)
        return found(self.lines)

    def tail(self, count: int = 30) -> str:
        return "\n".join(self.lines[-count:])


@attrs.frozen
class Server:
    """A running `engage serve`: its base URL, its worker count, its stderr so far."""

    url: str
    workers: int
    pid: int
    log: _Lines


def engage_command() -> list[str]:
    """The installed `engage` script next to this interpreter, else its module."""
    script = Path(sys.executable).with_name("engage")
    return [str(script)] if script.exists() else [sys.executable, "-m", "adapters.cli.main"]


@functools.cache
def delivery_off() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The flag (or, without one, the variable) that keeps delivery out of the server."""
    shown = subprocess.run([*engage_command(), "serve", "--help"], cwd=ROOT, capture_output=True,
                           text=True, check=False)  # fmt: skip
    if "--no-deliver" in shown.stdout:
        return ("--no-deliver",), ()
    return (), (("ENGAGE_SERVE_DELIVER", "0"),)


def _listening(lines: list[str]) -> str | None:
    for line in lines:
        if line.startswith("{"):
            url = orjson.loads(line).get("listening")
            if isinstance(url, str):
                return url
    return None


@contextmanager
def served(
    workers: int, secrets: Mapping[str, str], *, profile_to: Path | None = None
) -> Iterator[Server]:
    """`engage serve --workers N` on a fresh store, until the block ends."""
    flags, variables = delivery_off()
    with tempfile.TemporaryDirectory(prefix="engage-bench-serve-") as directory:
        command = engage_command()
        env = {**os.environ, **secrets, **dict(variables), "ENGAGE_IMPORTS_DIR": directory}
        if profile_to is not None:
            command = [sys.executable, "-m", "benchmarks.service_server"]
            env[PROFILE_VAR] = str(profile_to)
        argv = [*command, "serve", "--store", f"sqlite:///{directory}/engage.db",
                "--host", "127.0.0.1", "--port", "0", "--workers", str(workers),
                "--public-url", PUBLIC_URL, *flags]  # fmt: skip
        pipe = subprocess.PIPE
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=pipe, stderr=pipe, text=True)  # fmt: skip
        assert process.stdout is not None
        assert process.stderr is not None
        out, log = _Lines(process.stdout), _Lines(process.stderr)
        try:
            yield _started(process, workers, out, log)
        finally:
            _stop(process, log)


def _started(process: subprocess.Popen[str], workers: int, out: _Lines, log: _Lines) -> Server:
    def alive() -> bool:
        return process.poll() is None

    listening = out.wait_for(lambda lines: _listening(lines) is not None, alive)
    ready = listening and log.wait_for(
        lambda lines: sum(_STARTED in line for line in lines) >= workers, alive
    )
    url = _listening(out.lines)
    if not ready or url is None:
        raise RuntimeError(f"engage serve did not start ({process.poll()}):\n{log.tail()}")
    return Server(url=url, workers=workers, pid=process.pid, log=log)


def _stop(process: subprocess.Popen[str], log: _Lines) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise RuntimeError(f"engage serve did not stop on SIGTERM:\n{log.tail()}") from None
    if code != 0 and sys.exc_info()[0] is None:
        raise RuntimeError(f"engage serve exited {code}:\n{log.tail()}")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of process `pid` and its live descendants (the workers), from
    /proc; None where there is no /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, tuple[int, float]] = {}  # pid: (parent, seconds)
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        used[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    if pid not in used:
        return None
    children: dict[int, list[int]] = {}
    for process, (parent, _) in used.items():
        children.setdefault(parent, []).append(process)
    total, waiting = 0.0, [pid]
    while waiting:
        process = waiting.pop()
        total += used[process][1]
        waiting += children.get(process, [])
    return total


def _profiled(main: Callable[[Sequence[str]], int], argv: Sequence[str], out: str) -> int:
    """`main(argv)` with a cProfile profiler in every thread, merged into `out` at the end."""
    profilers: list[cProfile.Profile] = []
    lock = threading.Lock()

    def first_call(frame: FrameType, event: str, arg: Any) -> None:  # a new thread starts
        profiler = cProfile.Profile()
        with lock:
            profilers.append(profiler)
        profiler.enable()  # replaces this hook in that thread

    here = cProfile.Profile()
    profilers.append(here)
    threading.setprofile(first_call)
    here.enable()
    try:
        return main(argv)
    finally:
        here.disable()
        threading.setprofile(None)
        with lock:
            stats = pstats.Stats(profilers[0])
            for profiler in profilers[1:]:
                stats.add(profiler)
        stats.dump_stats(out)


def _main(argv: Sequence[str]) -> int:
    from adapters.cli.main import main

    out = os.environ.get(PROFILE_VAR)
    if not out:
        return main(argv)
    return _profiled(main, argv, out)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
