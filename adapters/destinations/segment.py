"""Segment's HTTP Tracking API, `POST <base_url>/v1/batch` with Basic auth (the write key as
the user name, no password), within its documented limits: at most 32 KB per event, 500 KB
and 2,500 events per batch. An event over 32 KB can never be accepted: it is parked alone
with the reason, and the rest of its batch goes on. `base_url` points at any
Segment-compatible collector (RudderStack, Jitsu, a regional Segment endpoint)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from adapters.destinations.base import Batch, Destination, Unacceptable
from adapters.destinations.http import post, where
from adapters.destinations.webhook import batch_body
from adapters.views import OutboxEntry

DEFAULT_BASE_URL = "https://api.segment.io"
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500_000  # "500 KB", read conservatively (Segment's own libraries stay under)
MAX_BATCH_EVENTS = 2500
# `{"batch":[` … `],"sentAt":"2026-01-01T00:00:00.000000+00:00"}`, with room to spare
ENVELOPE_BYTES = 128


class SegmentDestination(Destination):
    def __init__(
        self,
        name: str,
        write_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        batch_size: int = MAX_BATCH_EVENTS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name, batch_size=min(batch_size, MAX_BATCH_EVENTS))
        self.url = base_url.rstrip("/") + "/v1/batch"
        self._authorization = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self.timeout = timeout
        self.clock = clock

    def encode(self, entry: OutboxEntry) -> bytes:
        data = orjson.dumps(entry.body)
        if len(data) > MAX_EVENT_BYTES:
            raise Unacceptable(
                f"event is {len(data)} bytes, over Segment's limit of {MAX_EVENT_BYTES} "
                "bytes (32 KB) per event"
            )
        return data

    def fits(self, count: int, size: int) -> bool:
        # the events, the commas between them and the envelope
        return count <= self.batch_size and size + count + ENVELOPE_BYTES <= MAX_BATCH_BYTES

    def send(self, batch: Batch) -> None:
        sent_at = orjson.dumps(self.clock().isoformat())
        body = batch_body(batch.encoded, b',"sentAt":' + sent_at)
        headers = {"Content-Type": "application/json", "Authorization": self._authorization}
        post(self.url, body, headers, self.timeout)

    def describe(self) -> dict[str, object]:
        return {"type": "segment", "url": where(self.url)}
