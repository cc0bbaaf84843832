"""A webhook body over the limit is never read far past it, over real sockets: one declared
over the limit by its Content-Length is refused at once (its first bytes held, its declared
size), and an endless chunked body is cut a bounded slack past the limit, answered 413 with
`Connection: close` and held with the size read so far."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

from adapters.web.body import SLACK_BYTES
from engage_core.limits import Limits
from tests.web.conftest import Serve, Service
from tests.web.signing import FORM

PATH = "/webhooks/twilio"
LIMIT = 2048
CHUNK = 16 * 1024


def connect(service: Service) -> socket.socket:
    parts = urlsplit(service.url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10)
    sock.settimeout(10)
    return sock


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers (lower-case names) and body of one answer read from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"the connection closed before an answer: {data!r}"
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        more = sock.recv(65536)
        assert more
        body += more
    return int(status_line.split()[1]), headers, body


def closed(sock: socket.socket) -> bool:
    """Whether the server closed the connection (read to its end, or reset)."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def head(**headers: str) -> bytes:
    lines = [f"POST {PATH} HTTP/1.1", "Host: x", f"Content-Type: {FORM}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_declared_length_over_the_limit_is_refused_at_once(serve: Serve) -> None:
    declared = 10**9
    sent = bytes(range(256)) * 32  # 8 KiB of the gigabyte declared, then nothing more
    with serve(limits=Limits(provider_body_bytes=LIMIT)) as service, connect(service) as sock:
        sock.sendall(head(Content_Length=str(declared)) + sent)
        status, headers, body = answer(sock)  # before the rest: it never comes
        assert status == 413, body
        assert headers["connection"] == "close"
        assert closed(sock)
        (entry,) = service.app.held()
    assert entry.request.truncated
    assert entry.request.body_size == declared
    assert entry.request.body == sent[:LIMIT]  # the prefix kept, never more than the limit


def test_a_client_waiting_for_100_continue_is_refused_before_it_sends(serve: Serve) -> None:
    with serve(limits=Limits(provider_body_bytes=LIMIT)) as service, connect(service) as sock:
        sock.sendall(head(Content_Length=str(10**9), Expect="100-continue"))
        status, headers, _ = answer(sock)
        assert (status, headers["connection"]) == (413, "close")
        (entry,) = service.app.held()
    assert (entry.request.body, entry.request.body_size) == (b"", 10**9)


def test_an_endless_chunked_body_is_cut_after_the_limit_and_a_slack(serve: Serve) -> None:
    chunk = b"%x\r\n" % CHUNK + b"j" * CHUNK + b"\r\n"
    written = [0]

    def endless(sock: socket.socket) -> None:
        try:
            sock.sendall(head(Transfer_Encoding="chunked"))
            while written[0] < 10**9:
                sock.sendall(chunk)
                written[0] += CHUNK
        except OSError:
            return  # the server closed the connection

    with serve(limits=Limits(provider_body_bytes=LIMIT)) as service, connect(service) as sock:
        writer = threading.Thread(target=endless, args=(sock,), daemon=True)
        writer.start()
        status, headers, body = answer(sock)
        assert status == 413, body
        assert headers["connection"] == "close"
        writer.join(10)
        assert not writer.is_alive(), "the server went on reading the body"
        (entry,) = service.app.held()
    assert entry.request.truncated
    assert entry.request.body == b"j" * LIMIT
    # the size read so far: a lower bound, bounded by the limit, the slack and what one read
    # of the server's brings (uvicorn reads the socket 64 KiB at a time: under load several of
    # the client's chunks arrive as one piece of body)
    assert LIMIT + SLACK_BYTES < entry.request.body_size <= LIMIT + SLACK_BYTES + 64 * 1024
    assert written[0] < 100 * 1024 * 1024


def test_a_chunked_body_a_little_over_is_measured_whole_and_keeps_its_connection(
    serve: Serve,
) -> None:
    size = LIMIT + SLACK_BYTES // 2

    def pieces() -> Iterator[bytes]:
        for start in range(0, size, 1000):
            yield b"j" * min(1000, size - start)

    with serve(limits=Limits(provider_body_bytes=LIMIT)) as service:
        refused = service.client.post(PATH, content=pieces(), headers={"Content-Type": FORM})
        assert refused.status_code == 413, refused.text
        assert "connection" not in refused.headers
        (entry,) = service.app.held()
    assert entry.request.body_size == size
