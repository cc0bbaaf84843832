"""Operating the service over real sockets: a client that goes away in the middle of its body
is its own doing, counted and logged as 499 at info, never as a 500 with a trace; and a stop
never closes the store under the follower still delivering."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.views import Views
from adapters.web import WebSettings, create_app
from engage_core import EngageApplication, Observation
from tests.http_receiver import Reply, running_receiver
from tests.web.conftest import Serve, Service, running
from tests.web.signing import ENVIRON, FORM
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


def test_shutdown_never_closes_the_store_under_the_follower(
    engage_app: EngageApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow destination keeps the follower busy, batch after batch, when the server stops:
    the follower stops between batches and the views and application are closed after it."""
    monkeypatch.setattr("adapters.web.background.JOIN_SECONDS", 1.0)
    closed_under: list[str] = []
    # followers of servers other tests ran in this process are not this server's
    others = {t for t in threading.enumerate() if t.name == "engage-follower"}

    def ours() -> list[threading.Thread]:
        return [t for t in threading.enumerate()
                if t.name == "engage-follower" and t.is_alive() and t not in others]  # fmt: skip

    def watching(name: str, close: Callable[[Any], None]) -> Callable[[Any], None]:
        def watched(self: Any) -> None:
            if ours():
                closed_under.append(name)
            close(self)

        return watched

    monkeypatch.setattr(Views, "close", watching("views", Views.close))
    application_close = watching("application", EngageApplication.close)
    monkeypatch.setattr(EngageApplication, "close", application_close)
    engage_app.observe([
        Observation.create(channel="sms", provider="twilio", provider_message_id=f"SMQ{n}",
                           status="delivered", occurred_at="2026-01-01T00:00:00Z")
        for n in range(30)
    ])  # fmt: skip
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    with running_receiver() as receiver:
        receiver.script(*[Reply(delay=0.3)] * 100)  # each batch answered after 0.3 s
        (tmp_path / "engage.toml").write_text(
            f'[delivery]\npoll_interval = 0.1\n\n[destinations.slow]\ntype = "webhook"\n'
            f'url = "{receiver.url}/hook"\nbatch_size = 1\ntimeout = 5\n'
        )
        settings = attrs.evolve(WebSettings.from_environment(ENVIRON), store_url=store)
        with running(create_app(None, settings)):
            deadline = time.monotonic() + 15
            while len(receiver.requests) < 2:  # delivering, one batch at a time
                assert time.monotonic() < deadline, "nothing was delivered"
                time.sleep(0.05)
            began = time.monotonic()
        stopping = time.monotonic() - began
    assert closed_under == []
    assert not ours()
    assert stopping < 5
    assert len(receiver.requests) < 30  # it stopped between batches, not at the end
