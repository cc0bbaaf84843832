"""Engage's pytest plugin, registered through the `pytest11` entry point by the `testing`
extra: fixtures that give a test an application on a store, or a live service.

- `engage_app`: an `EngageApplication` in memory (fast; gone after the test);
- `engage_sqlite_app`: one on a SQLite file in the test's temporary directory, with the
  batching recorder `engage --store sqlite:///…` uses;
- `engage_server`: the URL of Engage's HTTP service over `engage_sqlite_app`, served by uvicorn
  on 127.0.0.1 for the test, with `test_keys()`' provider secrets, `engage_api_token` (for
  `/api/` and the Public API) and `engage_write_key` (for the Tracking API), and its CSV
  imports' error files in the test's temporary directory (skipped with the reason when the
  `server` extra is not installed);
- `engage_api_token`, `engage_write_key`: the fixed, made-up secrets the server accepts.

A conftest fixture of the same name overrides these, as pytest always lets it. It lives in
`adapters`, not in `engage_core.testing`, because the stores and the service are `adapters`'
business and the core imports nothing from `adapters`; it imports them only inside a fixture,
when a test asks for one.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from engage_core.application import EngageApplication

__all__ = [
    "TEST_API_TOKEN",
    "TEST_WRITE_KEY",
    "engage_api_token",
    "engage_app",
    "engage_server",
    "engage_sqlite_app",
    "engage_write_key",
    "serving",
]

_SERVER_MODULES = ("starlette", "uvicorn", "prometheus_client", "multipart")
# Fixed and made up, as `test_keys()` are: a test server has no secrets worth keeping, and a
# test reads them from the fixtures (or here) to authenticate as a real client would.
TEST_API_TOKEN = "engage-test-api-token"
TEST_WRITE_KEY = "engage-test-write-key"


@pytest.fixture
def engage_app() -> Iterator[EngageApplication]:
    """An Engage application on an in-memory store, closed after the test; the defaults'
    settings, whatever `ENGAGE_*` the environment holds (a test says what it sets)."""
    from adapters.stores import open_application

    app = open_application("memory://", environ={})
    yield app
    app.close()


@pytest.fixture
def engage_sqlite_app(tmp_path: Path) -> Iterator[EngageApplication]:
    """An Engage application on a SQLite file in the test's temporary directory, with the
    defaults' settings (as `engage_app`)."""
    from adapters.stores import open_application

    app = open_application(f"sqlite:///{tmp_path / 'engage.db'}", environ={})
    yield app
    app.close()


@contextmanager
def serving(asgi: Any) -> Iterator[str]:
    """`asgi` served by uvicorn on 127.0.0.1 (a free port) in a thread for the block (lifespan
    on); yields its base URL. For a test that serves an app of its own, such as Engage mounted
    in yours. uvicorn's proxy headers are off: the app decides whom to believe."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(asgi, lifespan="on", log_level="error", access_log=False,
                            proxy_headers=False, timeout_graceful_shutdown=5)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    # the wait is inside the try: a server that fails to start still has its thread told to
    # stop and its socket closed, rather than leaking both into the rest of the session
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the Engage test server did not start")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        if thread.ident is not None:  # started
            thread.join(10)
        sock.close()


@pytest.fixture
def engage_api_token() -> str:
    """The Bearer token `engage_server` accepts on `/api/` and the Public API."""
    return TEST_API_TOKEN


@pytest.fixture
def engage_write_key() -> str:
    """The write key `engage_server` accepts on the Tracking API (`/v1/…`, Basic auth, the key
    as the user name)."""
    return TEST_WRITE_KEY


@pytest.fixture
def engage_server(
    engage_sqlite_app: EngageApplication,
    engage_api_token: str,
    engage_write_key: str,
    tmp_path: Path,
) -> Iterator[str]:
    """The base URL of Engage's service (webhooks, Tracking and Public APIs, `/api/`) over
    `engage_sqlite_app`: its provider secrets are `test_keys()`' (sign requests with them), its
    API token and write key `engage_api_token` and `engage_write_key`, and its imports folder
    is in the test's temporary directory, not the working directory."""
    missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"engage_server needs the server extra (pip install 'engage-core[server]'); "
                    f"missing: {', '.join(missing)}")  # fmt: skip
    from adapters.web import WebSettings, create_app
    from adapters.web.settings import API_TOKEN_VAR, IMPORTS_DIR_VAR, WRITE_KEY_VAR
    from engage_core.simulation.signing import test_keys

    environ = {
        **test_keys().environ(),
        API_TOKEN_VAR: engage_api_token,
        WRITE_KEY_VAR: engage_write_key,
        IMPORTS_DIR_VAR: str(tmp_path / "engage-imports"),
    }
    settings = WebSettings.from_environment(environ)
    with serving(create_app(engage_sqlite_app, settings)) as url:
        yield url
