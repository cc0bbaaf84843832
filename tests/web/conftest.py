"""The real service for the web tests: uvicorn on 127.0.0.1, a free port, in a background
thread (as `tests.http_receiver` runs its receiver), over an EngageApplication on a temporary
SQLite file; talked to with httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from adapters.pytest_plugin import serving
from adapters.stores import open_application
from adapters.web import WebSettings, create_app
from engage_core import Channel, EngageApplication
from tests.web.signing import ENVIRON

# the plugin's server, as a user's test would serve an app of its own
running = serving


@attrs.frozen
class Service:
    """A running service: its base URL, its application, a client."""

    url: str
    app: EngageApplication
    client: httpx.Client

    def post(self, path: str, signed: tuple[bytes, dict[str, str]], **extra: Any) -> httpx.Response:
        body, headers = signed
        return self.client.post(path, content=body, headers=headers, **extra)

    def applied(self) -> list[str]:
        """The topics of every event stored but the quarantine's: what a request applied."""
        return [n.topic for n in self.app.recorder.select_notifications(start=1, limit=10**6)
                if not n.topic.startswith("engage.quarantine.")]  # fmt: skip

    def status(self, channel: Channel, provider_message_id: str) -> str | None:
        message = self.app.find_message(channel, provider_message_id)
        return None if message is None else message.status


Serve = Callable[..., Any]


@pytest.fixture
def engage_app(tmp_path: Path) -> Iterator[EngageApplication]:
    app = open_application(f"sqlite:///{tmp_path / 'engage.db'}", environ={})
    yield app
    app.close()


@pytest.fixture
def serve(engage_app: EngageApplication, tmp_path: Path) -> Serve:
    """`with serve(**settings) as service:` the service with these settings (and the test
    secrets) over the test's application; CSV uploads kept in the test's own folder."""

    @contextmanager
    def start(**settings: Any) -> Iterator[Service]:
        given = attrs.evolve(WebSettings.from_environment(ENVIRON),
                             imports_dir=str(tmp_path / "imports"))  # fmt: skip
        with running(create_app(engage_app, attrs.evolve(given, **settings))) as url, \
                httpx.Client(base_url=url, timeout=30) as client:  # fmt: skip
            yield Service(url, engage_app, client)

    return start


@pytest.fixture
def service(serve: Serve) -> Iterator[Service]:
    with serve() as running_service:
        yield running_service
