"""A real HTTP receiver for destination tests: a small ASGI app served by uvicorn on 127.0.0.1
(a free port, a background thread), recording every request as received (headers, raw body)
and answering from a script (500s, 429 with Retry-After, slow answers for timeouts), 200
once the script runs out. With a `secret` it checks `X-Engage-Signature` (with the function a
receiver would copy), with a `write_key` Segment's Basic auth; a request failing either is
answered 401 and recorded so."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import orjson
import pytest
import uvicorn

from adapters.destinations.signature import verify_signature


@attrs.frozen
class Reply:
    """One scripted answer."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b'{"success": true}'
    delay: float = 0.0  # seconds before answering (longer than the client's timeout: a timeout)


@attrs.frozen
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int  # what we answered
    delay: float
    signature_ok: bool | None  # None: not checked
    auth_ok: bool | None

    @property
    def acknowledged(self) -> bool:
        """Answered 2xx in time: the sender saw success."""
        return 200 <= self.status < 300 and self.delay == 0

    def events(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = orjson.loads(self.body)["batch"]
        return batch

    def message_ids(self) -> list[str]:
        return [event["messageId"] for event in self.events()]


class Receiver:
    def __init__(self, *, secret: str | None = None, write_key: str | None = None) -> None:
        self.secret = secret
        self.write_key = write_key
        self.requests: list[Received] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.url = ""

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order (then 200)."""
        with self._lock:
            self._script.extend(replies)

    def reset(self, *, secret: str | None = None, write_key: str | None = None) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.secret, self.write_key = secret, write_key

    def acknowledged_ids(self) -> list[str]:
        return [m for r in self.requests if r.acknowledged for m in r.message_ids()]

    def received_ids(self) -> list[str]:
        return [m for r in self.requests if r.body for m in r.message_ids()]

    def _next(self) -> Reply:
        with self._lock:
            return self._script.popleft() if self._script else Reply()

    def _check(self, headers: dict[str, str], body: bytes) -> tuple[bool | None, bool | None]:
        signature_ok = auth_ok = None
        if self.secret is not None:
            header = headers.get("x-engage-signature", "")
            signature_ok = verify_signature(self.secret, header, body)
        if self.write_key is not None:
            expected = "Basic " + base64.b64encode(f"{self.write_key}:".encode()).decode()
            auth_ok = headers.get("authorization") == expected
        return signature_ok, auth_ok

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        signature_ok, auth_ok = self._check(headers, body)
        refused = signature_ok is False or auth_ok is False
        reply = Reply(401, body=b"unauthorized") if refused else self._next()
        received = Received(
            scope["method"], scope["path"], headers, body, reply.status, reply.delay,
            signature_ok, auth_ok,
        )  # fmt: skip
        self.requests.append(received)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode(), v.encode()) for k, v in reply.headers],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})


@contextmanager
def running_receiver(
    *, secret: str | None = None, write_key: str | None = None
) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 for the duration of the block."""
    receiver = Receiver(secret=secret, write_key=write_key)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        receiver, lifespan="off", log_level="error", access_log=False,
        timeout_graceful_shutdown=1,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test HTTP receiver did not start")
        time.sleep(0.005)
    receiver.url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running
