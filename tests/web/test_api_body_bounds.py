"""The JSON APIs' bodies are bounded as the webhooks' are, over real sockets: a body declared
over `ENGAGE_MAX_API_REQUEST_BYTES` is refused at once (413, the connection closed), and an
endless chunked body is cut a bounded slack past the limit, whatever the route (the Tracking
API, the Public API, `POST /api/messages`); nothing is stored."""

from __future__ import annotations

import base64
import socket
import threading

import pytest

from engage_core.limits import Limits
from tests.web.conftest import Serve
from tests.web.test_body_review import CHUNK, answer, closed, connect

LIMIT = 4096
WRITE_KEY = "bounds-write-key"
TOKEN = "bounds-api-token"
ROUTES = {
    "/v1/batch": f"Basic {base64.b64encode(f'{WRITE_KEY}:'.encode()).decode()}",
    "/spaces/default/messaging-subscriptions": f"Bearer {TOKEN}",
    "/api/messages": f"Bearer {TOKEN}",
}


def head(path: str, **headers: str) -> bytes:
    method = "PUT" if path.startswith("/spaces/") else "POST"
    lines = [f"{method} {path} HTTP/1.1", "Host: x", "Content-Type: application/json",
             f"Authorization: {ROUTES[path]}"]  # fmt: skip
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_a_body_declared_over_the_limit_is_refused_at_once(serve: Serve, path: str) -> None:
    settings = {"limits": Limits(api_request_bytes=LIMIT), "write_keys": (WRITE_KEY,),
                "api_tokens": (TOKEN,)}  # fmt: skip
    with serve(**settings) as service, connect(service) as sock:
        sock.sendall(head(path, Content_Length=str(10**9)) + b"[" * 1024)
        status, headers, body = answer(sock)  # before the rest: it never comes
        assert status == 413, body
        assert headers["connection"] == "close"
        assert closed(sock)
        assert (service.app.recorder.max_notification_id() or 0) == 0


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_an_endless_chunked_body_is_cut(serve: Serve, path: str) -> None:
    chunk = b"%x\r\n" % CHUNK + b" " * CHUNK + b"\r\n"
    written = [0]

    def endless(sock: socket.socket) -> None:
        try:
            sock.sendall(head(path, Transfer_Encoding="chunked"))
            while written[0] < 10**9:
                sock.sendall(chunk)
                written[0] += CHUNK
        except OSError:
            return  # the server closed the connection

    settings = {"limits": Limits(api_request_bytes=LIMIT), "write_keys": (WRITE_KEY,),
                "api_tokens": (TOKEN,)}  # fmt: skip
    with serve(**settings) as service, connect(service) as sock:
        writer = threading.Thread(target=endless, args=(sock,), daemon=True)
        writer.start()
        status, _, body = answer(sock)
        assert status == 413, body
        writer.join(10)
        assert not writer.is_alive(), "the server went on reading the body"
        assert written[0] < 100 * 1024 * 1024
        assert (service.app.recorder.max_notification_id() or 0) == 0
