"""How many refused requests one source may have held: a token bucket per source IP.

A request whose signature does not verify is held in quarantine (as metadata and a bounded
prefix of its body, `docs/limits.md`), so an operator can see what a misconfigured provider
sent. Anyone can send such requests, so without a bound a stream of junk from one address
would still grow the store without end. Each source may have `per_minute` refusals held per
minute (a bucket of that many, refilled continuously); beyond it a refusal is answered the
same (401, 413) but not held, and counted in a metric.

The buckets are per process (each `engage serve` worker has its own) and at most
`max_sources` addresses are remembered, the least recently seen forgotten first: a forgotten
address starts again with a full bucket, which bounds memory whatever the number of senders.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["HeldLimiter"]

MAX_SOURCES = 10_000


class HeldLimiter:
    """`take(source)`: whether one more refusal from `source` may be held now. Safe across
    threads (requests are answered in worker threads)."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_sources: int = MAX_SOURCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0  # tokens per second
        self._max_sources = max_sources
        self._clock = clock
        self._lock = threading.Lock()
        # source → (tokens left, when they were counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, source: str) -> bool:
        """Spend one of `source`'s tokens if it has one; False when it has none left."""
        if self.per_minute <= 0:
            return False
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(source, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * self._rate)
            allowed = tokens >= 1.0
            self._buckets[source] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self._max_sources:
                self._buckets.popitem(last=False)
            return allowed
