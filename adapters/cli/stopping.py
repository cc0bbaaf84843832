"""Stopping a `--follow` loop cleanly: the first Ctrl-C (or SIGTERM) asks the loop to stop at
its next safe point; a second Ctrl-C interrupts at once.

A KeyboardInterrupt raised at an arbitrary point can land inside a SQLite transaction or
eventsourcing's connection pool, leaving a lock held that the cleanup then waits on for good;
between polls and between destinations nothing is held.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """An event set by the first SIGINT or SIGTERM (the handlers are restored on exit)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals are only delivered to the main thread
        return

    def on_signal(number: int, frame: FrameType | None) -> None:
        if stop.is_set() and number == signal.SIGINT:
            raise KeyboardInterrupt  # asked twice: stop now
        # set from another thread: the handler runs in the main thread between two bytecodes,
        # possibly inside `stop.wait()` while it holds the event's (non-reentrant) lock, where
        # a `stop.set()` here would wait on that lock for ever
        threading.Thread(target=stop.set, name="engage-stop", daemon=True).start()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
