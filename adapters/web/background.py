"""The service's own follower: the views kept caught up with the log and the outbox delivered
to every configured destination, as `engage deliver --follow` does, in a thread the app's
lifespan starts and stops (`settings.deliver`, `engage serve --no-deliver` to run `engage
deliver --follow` elsewhere instead).

It reuses the library's pieces, not the command: `catch_up` (every view, fenced against other
processes and rebuilds), `deliver` per destination (its cursor moved by compare-and-set in the
ledger's transactions), `Cooldown` (a destination that stopped rests, so an outage parks at
most one batch per cooldown). What fails is logged (one JSON line, no secret) and tried again
after a growing pause; nothing here can stop the server.

Several processes serving one store (`--workers N`, several `engage serve`, on one host or, on
PostgreSQL, on several) each follow, but only one delivers: two deliverers on one destination
send batches twice and one of them stops on `CursorMoved`. The one that delivers holds the
deliver role's lock (`adapters.destinations.exclusive`: a file beside a SQLite store's views,
a PostgreSQL advisory lock otherwise, the same lock `engage deliver` takes); the others keep
the views caught up every `poll_interval` (safe with any number of followers, and their
readiness counts the views' lag whoever delivers) and take the lock when its holder goes.
The holder proves the lock before each round and each batch, and stands by again when it lost
it (its PostgreSQL connection cut). Between rounds it waits on the log (`LogWaiter`): on
PostgreSQL a commit wakes it at once, `poll_interval` is only the longest wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import attrs

from adapters.destinations import (
    Configured,
    CursorLost,
    CursorMoved,
    Ledger,
    OutboxBehind,
    Report,
    Settings,
    Stopped,
    deliver,
)
from adapters.destinations.exclusive import Guarded, RoleLock, RoleLost
from adapters.redaction import redact
from adapters.views import OutboxEntry, OutboxView, Views, catch_up
from adapters.views.waiting import LogWaiter, drop_broken_connections
from engage_core import EngageApplication

__all__ = ["Follower"]

LOG = logging.getLogger("engage.background")
FIRST_PAUSE = 1.0  # seconds after an unforeseen failure, doubling
LONGEST_PAUSE = 60.0
# how long shutdown waits for the thread: it stops at its next safe point, within one delivery
# attempt (the destination's timeout, 10 s by default); past this, something hangs, and the
# store is left open rather than closed under the thread (`stop` says so)
JOIN_SECONDS = 60.0


class _Stopping(Exception):
    """Raised at the follower's next safe point once the service stops: between two pages of
    the views' catch-up, before the next outbox entry is batched, or from a retry's pause (the
    batch in flight left unacknowledged, its cursor unmoved, so the next run sends it again
    rather than park it)."""


@attrs.define
class Follower:
    """The thread keeping `views` caught up with `app` and delivering `settings`' destinations
    (none when `settings` is None: the views only), while it holds `lock`."""

    app: EngageApplication
    views: Views
    ledger: Ledger
    settings: Settings | None
    lock: RoleLock
    poll_interval: float = 1.0
    _stop: threading.Event = attrs.field(factory=threading.Event, init=False)
    _thread: threading.Thread | None = attrs.field(default=None, init=False)
    _waiter: LogWaiter | None = attrs.field(default=None, init=False)
    _standing_by: bool = attrs.field(default=False, init=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="engage-follower", daemon=True)
        self._thread.start()

    def stop(self) -> bool:
        """Ask the thread to stop at its next safe point and wait for it to end: between two
        pages of the views' catch-up, before the next outbox entry is batched, or in a retry's
        pause (a batch being sent finishes, or is left to be sent again); then close the
        destinations. Whether the thread ended (False only if it hung past `JOIN_SECONDS`:
        then nothing it uses may be closed)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_SECONDS)
            if self._thread.is_alive():
                _log("stuck", "the follower did not stop; the store is left open",
                     level=logging.ERROR, waited=JOIN_SECONDS)  # fmt: skip
                return False
        self.lock.release()
        if self._waiter is not None:
            self._waiter.close()
        for configured in self._destinations().values():
            configured.destination.close()
        return True

    def _destinations(self) -> dict[str, Configured]:
        return {} if self.settings is None else self.settings.destinations

    def _run(self) -> None:
        pause = FIRST_PAUSE
        while not self._stop.is_set():
            try:
                if not self._hold():
                    continue
                self.poll()
                pause = FIRST_PAUSE
            except _Stopping:
                return
            except RoleLost as lost:  # its connection was cut: stand by, or take it again
                _log("lost", str(lost), level=logging.WARNING)
                continue
            except Exception as error:  # logged, paused, tried again: never the server's end
                _log("error", f"{type(error).__name__}: {error}", level=logging.ERROR,
                     retry_in=pause)  # fmt: skip
                self._stop.wait(pause)
                pause = min(LONGEST_PAUSE, pause * 2)
                drop_broken_connections(self.app.recorder, self.views.datastore)  # restarted
                continue
            if self._waiter is None:  # listens only while it follows: a standby needs none
                self._waiter = LogWaiter(self.app, stop=self._stop)
            self._waiter.wait(self.poll_interval)

    def _hold(self) -> bool:
        """Whether this process holds the lock, proven now. Otherwise it waits for it up to
        `poll_interval`, then keeps the views caught up (whoever delivers, this service's
        readiness counts their lag) and says False."""
        lock = self.lock
        if lock.held:
            if lock.check():
                return True
            _log("lost", f"lost the {lock.role} lock", level=logging.WARNING, lock=lock.where)
        if lock.acquire() or lock.wait(self.poll_interval, self._stop):
            if self._standing_by:
                _log("holding", "took over delivering", lock=lock.where)
            self._standing_by = False
            return True
        if self._stop.is_set():
            return False
        if not self._standing_by:
            _log("waiting", "another process delivers; this one keeps the views caught up and "
                 "takes over if it stops", lock=lock.where)  # fmt: skip
            self._standing_by = True
            if self._waiter is not None:  # a standby listens to nothing
                self._waiter.close()
                self._waiter = None
        catch_up(self.app, list(self.views.by_name.values()), page=self.views.page,
                 on_progress=self._between_pages)  # fmt: skip
        return False

    def poll(self) -> None:
        """One round: the views caught up, then one run of each destination not resting;
        a stop ends it between pages and batches (`_Stopping`)."""
        catch_up(self.app, list(self.views.by_name.values()), page=self.views.page,
                 on_progress=self._between_pages)  # fmt: skip
        if self.settings is None:
            return
        cooldown = self.settings.cooldown
        for name, configured in self.settings.destinations.items():
            if self._stop.is_set():
                return
            if cooldown.remaining(name) > 0:
                continue
            with self._stoppable(configured) as policy:
                report = self._one_run(name, configured, policy)
            if report is None:
                continue
            rest = cooldown.record(name, report)
            if report.delivered or report.parked or report.stopped:
                _report(report, rest)

    def _between_pages(self, reached: int, last: int) -> None:
        """After each page of the catch-up (each committed whole): stop here if asked."""
        if self._stop.is_set():
            raise _Stopping

    def _one_run(self, name: str, configured: Configured, policy: Any) -> Report | None:
        outbox = cast(OutboxView, _StoppableOutbox(self.views.outbox, self._stop))
        destination = Guarded(configured.destination, self.lock)  # proves the lock per batch
        try:
            return deliver(destination, outbox, self.ledger, policy,
                           start_at_end=configured.start_at_end)  # fmt: skip
        except OutboxBehind:
            return None  # the outbox is being rebuilt: the next round catches it up
        except (CursorMoved, CursorLost) as error:  # rests like a stopped run, then again
            return Report(name, stopped=Stopped(str(error)))

    @contextmanager
    def _stoppable(self, configured: Configured) -> Iterator[Any]:
        """The destination's retry policy, its pauses cut short (`_Stopping`) by a stop."""

        def sleep(seconds: float) -> None:
            if self._stop.wait(seconds):
                raise _Stopping

        yield attrs.evolve(configured.policy, sleep=sleep)


class _StoppableOutbox:
    """The outbox as `deliver` reads it, its entries cut short (`_Stopping`) once the service
    stops: checked before each entry is batched, so a run ends between batches, those sent
    acknowledged (their cursor moved) and the one being packed never sent."""

    def __init__(self, outbox: OutboxView, stop: threading.Event) -> None:
        self._outbox = outbox
        self._stop = stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outbox, name)

    def entries(self, *args: Any, **kwargs: Any) -> Iterator[OutboxEntry]:
        for entry in self._outbox.entries(*args, **kwargs):
            if self._stop.is_set():
                raise _Stopping
            yield entry


def _report(report: Report, rest: float) -> None:
    stopped = report.stopped
    _log(
        "delivered", "a destination's run", level=logging.WARNING if stopped else logging.INFO,
        destination=report.destination, delivered=report.delivered, parked=report.parked,
        position=report.position, pending=report.pending,
        stopped=None if stopped is None else stopped.kind,
        reason=None if stopped is None else redact(stopped.reason), rest=rest or None,
    )  # fmt: skip


def _log(event: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    given = {name: value for name, value in fields.items() if value is not None}
    LOG.log(level, redact(message), extra={"engage": {"event": event, **given}})
