"""Operating the service over real sockets: a client that goes away in the middle of its body
is its own doing, counted and logged as 499 at info, never as a 500 with a trace."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from tests.web.conftest import Serve, Service
from tests.web.signing import FORM
from tests.web.test_storage_review import engage_lines

PATH = "/webhooks/twilio"


def counted(service: Service, status: str) -> float:
    """engage_http_requests_total for `PATH` and `status`."""
    for family in text_string_to_metric_families(service.client.get("/metrics").text):
        for sample in family.samples:
            if (sample.name == "engage_http_requests_total"
                    and sample.labels == {"route": PATH, "method": "POST", "status": status}):
                return sample.value
    return 0.0


def cut_short(url: str, head: bytes) -> None:
    """Open a connection, send `head` (a request whose body never comes whole), and close."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as sock:
        sock.sendall(head)
        time.sleep(0.2)  # the server is reading the body when the client goes


def test_a_client_gone_mid_body_is_499_at_info_without_a_trace(serve: Serve) -> None:
    head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
    declared = f"{head}Content-Length: 100000\r\n\r\nMessageSid=SM1".encode()
    chunked = f"{head}Transfer-Encoding: chunked\r\n\r\n5\r\nMessa\r\n".encode()
    with engage_lines() as lines, serve() as service:
        cut_short(service.url, declared)
        cut_short(service.url, chunked)
        deadline = time.monotonic() + 10
        while counted(service, "499") + counted(service, "500") < 2:
            assert time.monotonic() < deadline, "the cut requests were never counted"
            time.sleep(0.05)
        assert (counted(service, "499"), counted(service, "500")) == (2, 0)
    assert [line for line in lines if line["level"] not in {"info"}] == []
    assert not any("exception" in line for line in lines)
    gone = [line for line in lines if line.get("route") == PATH]
    assert [(line["logger"], line["status"]) for line in gone] == [("engage.access", 499)] * 2
