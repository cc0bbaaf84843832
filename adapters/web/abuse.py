"""How many refused requests may be held: a token bucket per source, and one for all sources.

A request whose signature does not verify is held in quarantine (as metadata and a bounded
prefix of its body, `docs/limits.md`), so an operator can see what a misconfigured provider
sent. Anyone can send such requests, so without a bound a stream of junk would still grow the
store without end. Each source may have `per_minute` refusals held per minute (a bucket of
that many, refilled continuously); beyond it a refusal is answered the same (401, 413) but not
held, and counted in a metric.

A source is an IPv4 address, or an IPv6 /64: one IPv6 host usually has a whole /64 to itself
and can send from a new address each time, so counting addresses would bound nothing. And
since anyone with many addresses (a botnet, a large IPv6 allocation) could still hold
`per_minute` refusals from each, all sources together may hold at most `GLOBAL_FACTOR` times
that per minute (a second bucket, shared): enough for a few misconfigured providers at once,
not for a flood.

The buckets are per process (each `engage serve` worker has its own) and at most
`max_sources` sources are remembered, the least recently seen forgotten first: a forgotten
source starts again with a full bucket, which bounds memory whatever the number of senders
(and the shared bucket still bounds what they hold).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["GLOBAL_FACTOR", "HeldLimiter", "source_of"]

MAX_SOURCES = 10_000
GLOBAL_FACTOR = 10  # all sources together: this many times one source's allowance


def source_of(address: str) -> str:
    """The source an address counts against: an IPv4 address itself (an IPv4-mapped IPv6 one
    as IPv4), an IPv6 address's /64, anything unparsable as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class HeldLimiter:
    """`take(address)`: whether one more refusal from `address` may be held now. Safe across
    threads (requests are answered in worker threads)."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_sources: int = MAX_SOURCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.everyone_per_minute = per_minute * GLOBAL_FACTOR
        self._max_sources = max_sources
        self._clock = clock
        self._lock = threading.Lock()
        # source → (tokens left, when they were counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._everyone = (float(self.everyone_per_minute), clock())

    def take(self, address: str) -> bool:
        """Spend one token of `address`'s source and one of the shared bucket if both have
        one; False (nothing spent) when either has none left."""
        if self.per_minute <= 0:
            return False
        now = self._clock()
        source = source_of(address)
        with self._lock:
            mine = _refilled(self._buckets.pop(source, None), self.per_minute, now)
            everyone = _refilled(self._everyone, self.everyone_per_minute, now)
            allowed = mine >= 1.0 and everyone >= 1.0
            spent = 1.0 if allowed else 0.0
            self._buckets[source] = (mine - spent, now)
            self._everyone = (everyone - spent, now)
            while len(self._buckets) > self._max_sources:
                self._buckets.popitem(last=False)
            return allowed


def _refilled(bucket: tuple[float, float] | None, per_minute: int, now: float) -> float:
    """The tokens a bucket holds at `now` (a new one is full), refilled at `per_minute`."""
    if bucket is None:
        return float(per_minute)
    tokens, then = bucket
    return min(float(per_minute), tokens + (now - then) * per_minute / 60.0)
