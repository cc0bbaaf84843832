"""`engage serve` as a real process: it prints its listening line and serves a signed Twilio
callback, with one worker or two; a bad option is a usage error (exit 2), a port in use one
line and exit 1; and SIGTERM in the middle of a stream of requests loses none that got a 200."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from adapters.stores import open_application
from engage_core import Channel
from tests.cli.test_cli import ENGAGE
from tests.web.signing import ENVIRON, twilio, twilio_params

PATH = "/webhooks/twilio"


def environment() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}, **ENVIRON}


@contextmanager
def engage_serve(store: Path, *options: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`engage serve --port 0 OPTIONS` on `store`; yields the process and its base URL once it
    printed its listening line. Stopped with SIGTERM at the end if still running."""
    process = subprocess.Popen(
        [ENGAGE, "--store", f"sqlite:///{store}", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(), cwd=store.parent,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "engage serve printed nothing within 30 s"
        line = orjson.loads(process.stdout.readline())
        assert line["pid"] == process.pid
        try:
            yield process, str(line["listening"])
        except Exception as failure:  # what the server said is what explains it
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            said = process.stderr.read().decode()[-4000:] if process.stderr else ""
            raise AssertionError(f"{failure!r}; the server's stderr:\n{said}") from failure
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def stopped(process: subprocess.Popen[bytes]) -> tuple[int, list[dict[str, object]]]:
    """SIGTERM, then the exit status and stderr's lines (each one JSON)."""
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    assert process.stderr is not None
    text = process.stderr.read().decode()
    assert "Traceback" not in text, text
    return code, [orjson.loads(line) for line in text.splitlines()]


def test_it_serves_a_signed_callback_and_stops_on_sigterm(tmp_path: Path) -> None:
    store = tmp_path / "engage.db"
    with engage_serve(store) as (process, url):
        answer = httpx.post(url + PATH, content=(signed := twilio(url + PATH,
                            twilio_params("SMS1")))[0], headers=signed[1])  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert httpx.get(url + "/readyz").status_code in {200, 503}
        code, lines = stopped(process)
    assert code == 0
    access = [line for line in lines if line.get("logger") == "engage.access"]
    assert next((line["route"], line["status"]) for line in access) == (PATH, 200)
    app = open_application(f"sqlite:///{store}")
    try:
        message = app.find_message(Channel.SMS, "SMS1")
        assert message is not None
        assert message.status == "delivered"
    finally:
        app.close()


def test_two_workers_serve(tmp_path: Path) -> None:
    store = tmp_path / "engage.db"
    with engage_serve(store, "--workers", "2") as (process, url):
        deadline = time.monotonic() + 30
        while True:  # the workers start after the listening line
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for n in range(6):
            body, headers = twilio(url + PATH, twilio_params(f"SMW{n}"))
            assert httpx.post(url + PATH, content=body, headers=headers).status_code == 200
        code, _ = stopped(process)
    assert code == 0


def test_a_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    completed = subprocess.run(
        [ENGAGE, "serve", "--workers", "0"], capture_output=True, text=True, timeout=60,
        env=environment(), cwd=tmp_path, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("engage serve: error: argument --workers"), completed.stderr


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        completed = subprocess.run(
            [ENGAGE, "--store", f"sqlite:///{tmp_path / 'e.db'}", "serve", "--port",
             str(taken.getsockname()[1])], capture_output=True, text=True, timeout=60,
            env=environment(), cwd=tmp_path, check=False,
        )  # fmt: skip
    finally:
        taken.close()
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout == ""
    (line,) = completed.stderr.splitlines()
    assert line.startswith("engage: cannot listen on 127.0.0.1:"), line


def test_sigterm_mid_stream_loses_no_request_that_got_a_200(tmp_path: Path) -> None:
    store = tmp_path / "engage.db"
    answered: list[str] = []
    lock = threading.Lock()
    with engage_serve(store) as (process, url):
        stop = threading.Event()

        def fire(worker: int) -> None:
            with httpx.Client(timeout=30) as client:
                for n in range(10_000):
                    if stop.is_set():
                        return
                    sid = f"SMT{worker}x{n}"
                    body, headers = twilio(url + PATH, twilio_params(sid))
                    try:
                        answer = client.post(url + PATH, content=body, headers=headers)
                    except httpx.TransportError:
                        return  # the server stopped taking connections
                    if answer.status_code == 200:
                        with lock:
                            answered.append(sid)

        threads = [threading.Thread(target=fire, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(answered) < 30:
            assert time.monotonic() < deadline, "too few requests were answered"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        stop.set()
        for thread in threads:
            thread.join(60)
    app = open_application(f"sqlite:///{store}")
    try:
        missing = [sid for sid in answered if app.find_message(Channel.SMS, sid) is None]
    finally:
        app.close()
    assert missing == [], f"{len(missing)} of {len(answered)} answered 200 were lost"


def test_a_store_that_cannot_be_opened_is_one_line_and_exit_1_with_workers(
    tmp_path: Path,
) -> None:
    store = tmp_path / "engage.db"
    store.write_bytes(bytes(range(256)) * 64)  # not a database
    for workers in ("1", "2"):
        completed = subprocess.run(
            [ENGAGE, "--store", f"sqlite:///{store}", "serve", "--port", "0", "--workers",
             workers], capture_output=True, text=True, timeout=120, env=environment(),
            cwd=tmp_path, check=False,
        )  # fmt: skip
        assert completed.returncode == 1, (workers, completed.stdout, completed.stderr)
        assert completed.stdout == "", workers  # never announced as listening
        (line,) = completed.stderr.splitlines()
        assert line.startswith("engage: cannot open the store: "), line
