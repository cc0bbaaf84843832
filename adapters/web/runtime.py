"""What one service instance shares: its settings, its one application, its views, and the
worker threads store work runs on.

One `EngageApplication` per process, used by every request: its commands are safe across
threads (the store serialises writes; a conflict between two writers is decided again; the
state cache is locked), so nothing is gained by one per request but open connections. Store
work blocks, so it runs in worker threads, at most `settings.threads` at once, below the
SQLite store's pool of connections, while the event loop goes on reading other requests.

The views (and the delivery ledger beside them) are opened once too, when first needed: the
readiness check and /metrics read them, and with `settings.deliver` the lifespan starts the
follower (`background.Follower`) that keeps them caught up and delivers the outbox, while it
holds the deliver role's lock (one process per store does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import attrs

from adapters.destinations import Ledger, load_settings
from adapters.destinations.exclusive import DELIVER, role_lock
from adapters.providers.base import BodyPrefix
from adapters.stores import open_application, store_url_from_environment
from adapters.views import OutboxView, Views, catch_up, views_of
from adapters.web.abuse import HeldLimiter
from adapters.web.answers import Answer
from adapters.web.background import Follower
from adapters.web.gauges import StoreGauges, views_lag
from adapters.web.handler import answer_webhook
from adapters.web.metrics import Reading, ServiceMetrics
from adapters.web.settings import WebSettings
from engage_core import EngageApplication

__all__ = ["Readiness", "Runtime"]

_T = TypeVar("_T")
FRESH_SECONDS = 1.0  # a gauge reading this recent answers another scrape as it is


@attrs.frozen
class Readiness:
    """What /readyz found: the log's last position and how far behind it the views are."""

    position: int
    lag: int  # the furthest behind of the views, in events
    views: dict[str, int]
    kept_here: bool  # this service keeps the views (`settings.deliver`): their lag counts


class Runtime:
    """The application (given, or opened from `settings.store_url` on first use and then
    closed by `close`), its views, and a bounded way to run blocking work off the event loop."""

    def __init__(self, application: EngageApplication | None, settings: WebSettings) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics()
        self.held = HeldLimiter(settings.held_per_minute)
        self._application = application
        self._owned = application is None  # opened here, so closed here
        self._lock = threading.Lock()
        self._closed = False
        self._limiter: anyio.CapacityLimiter | None = None
        self._views: tuple[Views, Ledger] | None = None
        # the requests' own outbox (`/api/events` catches it up): a view instance keeps a page's
        # work in memory, so the follower thread's instance is never shared with requests (the
        # database and its connections are)
        self._reader: Views | None = None
        self._reader_lock = threading.Lock()
        self._gauges = StoreGauges()
        self._measured = (0.0, Reading())
        self._follower: Follower | None = None

    def store_url(self) -> str:
        """The store's URL: the settings', else the given application's own (its views and
        destinations' settings go beside it), else `ENGAGE_STORE`'s."""
        if self.settings.store_url:
            return self.settings.store_url
        env = self._application.env if self._application is not None and not self._owned else {}
        module, name = env.get("PERSISTENCE_MODULE"), env.get("SQLITE_DBNAME")
        if module == "eventsourcing.sqlite" and name:
            return f"sqlite:///{name}"  # an absolute path gives sqlite:////path
        if module == "eventsourcing.popo":
            return "memory://"
        return store_url_from_environment()

    def application(self) -> EngageApplication:
        """The application, opened now if this is the first use (blocks: call it in a thread).
        A mounted app whose lifespan never ran opens it here."""
        with self._lock:
            if self._application is None:
                if self._closed:
                    raise RuntimeError("the Engage web app was shut down")
                self._application = open_application(self.store_url())
            return self._application

    def views(self) -> tuple[Views, Ledger]:
        """The store's views and the delivery ledger, opened on first use (blocks)."""
        application = self.application()
        with self._lock:
            if self._views is None:
                if self._closed:
                    raise RuntimeError("the Engage web app was shut down")
                views = views_of(application)
                self._views = views, Ledger(views.datastore)
            return self._views

    def caught_up_outbox(self) -> OutboxView:
        """The outbox caught up with the log, for reading by requests (blocks): an instance
        of their own, one catch-up at a time."""
        application = self.application()
        database = self.views()[0].datastore  # the same connections as the follower's views
        with self._reader_lock:
            if self._reader is None:
                self._reader = Views(database, upstream=application.name)
            catch_up(application, [self._reader.outbox], page=self._reader.page)
            return self._reader.outbox

    def close(self) -> None:
        """Stop the follower and wait for its thread to end, then close the views, and the
        application if it was opened here (a given one is its owner's to close). Never while
        the thread still runs: should it hang past `background.JOIN_SECONDS`, both are left
        open (the process is ending anyway) rather than closed under it."""
        with self._lock:
            self._closed = True
            follower, self._follower = self._follower, None
        if follower is not None and not follower.stop():
            return
        with self._lock:
            views, self._views = self._views, None
            application = self._application if self._owned else None
            self._application = None if self._owned else self._application
        if views is not None:
            views[0].close()
        with self._reader_lock:
            self._reader = None  # its database was the follower's views', closed above
        if application is not None:
            application.close()

    async def run(self, function: Callable[..., _T], *args: Any) -> _T:
        """`function(*args)` in a worker thread, at most `settings.threads` at once. A client
        gone meanwhile does not cut it short: a request being saved is saved whole."""
        if self._limiter is None:  # made on the event loop, where anyio needs it
            self._limiter = anyio.CapacityLimiter(self.settings.threads)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)

    def webhook(
        self, provider: str, method: str, url: str, headers: Iterable[tuple[str, str]],
        body: bytes | BodyPrefix, source: str = "unknown",
    ) -> Answer:  # fmt: skip
        """`handle_webhook` with this instance's application and settings (blocks); a refusal
        is held only within `source`'s allowance (`settings.held_per_minute`), and what became
        of the request's inputs is counted."""
        unheld = False

        def may_hold() -> bool:
            nonlocal unheld
            unheld = not self.held.take(source)
            return not unheld

        answer, report = answer_webhook(
            provider, method, url, headers, body, application=self.application(),
            settings=self.settings, may_hold=may_hold,
        )  # fmt: skip
        if report is not None:
            self.metrics.inputs(provider, report.counts.as_dict())
        if unheld:
            self.metrics.unheld_total.labels(provider).inc()
        return answer

    def ready(self) -> int:
        """The store's last notification id (0 when empty): a cheap read proving it answers."""
        return self.application().recorder.max_notification_id() or 0

    def readiness(self) -> Readiness:
        """The store answers, and how far behind the log the views are (blocks)."""
        application = self.application()
        views, _ = self.views()
        position, lag = views_lag(application, views)
        return Readiness(position, max(lag.values(), default=0), lag, self.settings.deliver)

    def measure(self) -> Reading:
        """The store's gauges for /metrics, read now unless a reading is under a second old
        (blocks)."""
        taken, reading = self._measured
        if time.monotonic() - taken < FRESH_SECONDS:
            return reading
        views, _ = self.views()
        reading = self._gauges.read(self.application(), views)
        self._measured = (time.monotonic(), reading)
        self.metrics.reading = reading
        return reading

    def start_following(self) -> None:
        """Start the follower when this service keeps the views and delivers (blocks: reads
        the destinations' settings, and `ConfigError` stops the start)."""
        if not self.settings.deliver:
            return
        application = self.application()
        views, ledger = self.views()
        destinations = load_settings(self.store_url())
        # the lock `engage deliver` takes too: one deliverer per store, across hosts on
        # PostgreSQL, whichever runs it
        lock = role_lock(views.datastore, DELIVER)
        follower = Follower(application, views, ledger, destinations, lock,
                            poll_interval=destinations.poll_interval)  # fmt: skip
        with self._lock:
            self._follower = follower
        follower.start()

    @asynccontextmanager
    async def lifespan(self, _: object) -> AsyncIterator[None]:
        """Open the application when the server starts (a store that cannot be opened stops
        it there), start the follower, and when it stops, after the last request, stop the
        follower and close what was opened."""
        await self.run(self.application)
        try:
            await self.run(self.start_following)
            yield
        finally:
            await self.run(self.close)
