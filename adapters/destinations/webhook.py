"""Any HTTPS endpoint: each batch is POSTed as `{"batch": [event, …]}` (the shape of Segment's
`/v1/batch`, so a receiver may reuse a Segment parser), signed with `X-Engage-Signature`
(see `signature.py`) when a secret is configured."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson

from adapters.destinations.base import Batch, Destination
from adapters.destinations.http import post, where
from adapters.destinations.signature import SIGNATURE_HEADER, sign
from adapters.views import OutboxEntry


def batch_body(encoded: tuple[bytes, ...], extra: bytes = b"") -> bytes:
    """`{"batch":[…]<extra>}` from already encoded events, without decoding them again."""
    return b'{"batch":[' + b",".join(encoded) + b"]" + extra + b"}"


class WebhookDestination(Destination):
    def __init__(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        batch_size: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, batch_size=batch_size)
        self.url = url
        self._secret = secret
        self.timeout = timeout
        self.clock = clock

    def encode(self, entry: OutboxEntry) -> bytes:
        return orjson.dumps(entry.body)

    def send(self, batch: Batch) -> None:
        body = batch_body(batch.encoded)
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body, int(self.clock()))
        post(self.url, body, headers, self.timeout)

    def describe(self) -> dict[str, object]:
        return {"type": "webhook", "url": where(self.url), "signed": bool(self._secret)}
