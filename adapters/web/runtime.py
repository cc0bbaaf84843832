"""What one service instance shares: its settings, its one application, and the worker
threads store work runs on.

One `EngageApplication` per process, used by every request: its commands are safe across
threads (the store serialises writes; a conflict between two writers is decided again; the
state cache is locked), so nothing is gained by one per request but open connections. Store
work blocks, so it runs in worker threads, at most `settings.threads` at once, below the
SQLite store's pool of connections, while the event loop goes on reading other requests.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from adapters.providers.base import BodyPrefix
from adapters.stores import open_application
from adapters.web.answers import Answer
from adapters.web.handler import handle_webhook
from adapters.web.metrics import ServiceMetrics
from adapters.web.settings import WebSettings
from engage_core import EngageApplication

__all__ = ["Runtime"]

_T = TypeVar("_T")


class Runtime:
    """The application (given, or opened from `settings.store_url` on first use and then
    closed by `close`), and a bounded way to run blocking work off the event loop."""

    def __init__(self, application: EngageApplication | None, settings: WebSettings) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics()
        self._application = application
        self._owned = application is None  # opened here, so closed here
        self._lock = threading.Lock()
        self._closed = False
        self._limiter: anyio.CapacityLimiter | None = None

    def application(self) -> EngageApplication:
        """The application, opened now if this is the first use (blocks: call it in a thread).
        A mounted app whose lifespan never ran opens it here."""
        with self._lock:
            if self._application is None:
                if self._closed:
                    raise RuntimeError("the Engage web app was shut down")
                self._application = open_application(self.settings.store_url)
            return self._application

    def close(self) -> None:
        """Close the application if it was opened here (a given one is its owner's to close)."""
        with self._lock:
            self._closed = True
            if not self._owned or self._application is None:
                return
            application, self._application = self._application, None
        application.close()

    async def run(self, function: Callable[..., _T], *args: Any) -> _T:
        """`function(*args)` in a worker thread, at most `settings.threads` at once. A client
        gone meanwhile does not cut it short: a request being saved is saved whole."""
        if self._limiter is None:  # made on the event loop, where anyio needs it
            self._limiter = anyio.CapacityLimiter(self.settings.threads)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)

    def webhook(
        self, provider: str, method: str, url: str, headers: Iterable[tuple[str, str]],
        body: bytes | BodyPrefix,
    ) -> Answer:  # fmt: skip
        """`handle_webhook` with this instance's application and settings (blocks)."""
        return handle_webhook(provider, method, url, headers, body,
                              application=self.application(), settings=self.settings)  # fmt: skip

    def ready(self) -> int:
        """The store's last notification id (0 when empty): a cheap read proving it answers."""
        return self.application().recorder.max_notification_id() or 0

    @asynccontextmanager
    async def lifespan(self, _: object) -> AsyncIterator[None]:
        """Open the application when the server starts (a store that cannot be opened stops
        it there) and close what was opened when it stops, after the last request."""
        await self.run(self.application)
        try:
            yield
        finally:
            await self.run(self.close)
