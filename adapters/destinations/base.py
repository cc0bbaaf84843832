"""What every destination shares: the outbox entries it is given, how it packs them into
batches, and the ways a delivery attempt can fail.

A destination does three things and nothing else: encode one event (refusing, with a reason,
an event it can never take), say whether a batch still fits its limits, and send one batch.
Cursors, retries, backoff and dead letters are `delivery`'s, the same for every destination.

Every reason is `redact`ed when the failure is made: reasons end up in dead letters, which
`engage dead-letters list` prints, so a credential or token that slipped into an error message
(a library quoting the URL it was given) must not survive into them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import attrs

from adapters.redaction import redact
from adapters.views import OutboxEntry


class DeliveryFailed(Exception):
    """A delivery attempt failed; `reason` is one line, safe to print (`redact`ed)."""

    transient: bool = False

    def __init__(self, reason: str) -> None:
        reason = redact(reason)
        super().__init__(reason)
        self.reason = reason


class TransientFailure(DeliveryFailed):
    """Worth retrying: a timeout, a refused connection, HTTP 408, 429 or 5xx, a locked
    database. `retry_after` is the wait the receiver asked for, in seconds, when it said."""

    transient = True

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailed):
    """Retrying the same bytes cannot help (HTTP 4xx other than 408 and 429, a bad row): the
    batch is parked at once, with the reason."""


class TooLarge(PermanentFailure):
    """The receiver refused the request as too large (HTTP 413). The events may be fine, only
    too many at once: delivery splits the batch in halves and sends each, down to single
    events, which are parked with this reason."""


class Misconfigured(DeliveryFailed):
    """The receiver refused *us*, not these events: a wrong write key or secret (HTTP 401,
    403), a wrong URL (404, a redirect), a URL that cannot be used. Every batch would fail the
    same way, so parking would turn the whole backlog into dead letters: the destination
    stops for this run instead, its cursor where it was, nothing parked, until someone fixes
    its settings."""


class Unacceptable(Exception):
    """This one event can never be delivered here (for Segment: over 32 KB); it is parked alone,
    with the reason, and the rest of its batch goes on."""

    def __init__(self, reason: str) -> None:
        reason = redact(reason)
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class Batch:
    """Entries in outbox order with their encodings (what `Destination.encode` returned)."""

    entries: tuple[OutboxEntry, ...]
    encoded: tuple[bytes, ...]


class Destination(ABC):
    """One configured destination. `name` keys its cursor and its dead letters."""

    def __init__(self, name: str, *, batch_size: int = 1000) -> None:
        self.name = name
        self.batch_size = batch_size

    @abstractmethod
    def encode(self, entry: OutboxEntry) -> bytes:
        """The bytes this destination sends for one event; raise `Unacceptable` if never."""

    def fits(self, count: int, size: int) -> bool:
        """Whether a batch of `count` encoded events totalling `size` bytes is within limits."""
        return count <= self.batch_size

    @abstractmethod
    def send(self, batch: Batch) -> None:
        """Deliver one batch, or raise `TransientFailure` / `PermanentFailure`. Returning means
        the receiver has it (acknowledged, written, committed)."""

    def describe(self) -> dict[str, object]:
        """What `engage deliver` may print about this destination: never a secret."""
        return {"type": type(self).__name__}

    def close(self) -> None:  # noqa: B027 - a hook: most destinations hold nothing
        """Release connections and files."""
