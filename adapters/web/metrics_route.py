"""`GET /metrics`: the service's metrics in Prometheus' text format (`prometheus-client`).

The counters (requests, inputs, refusals unheld) are kept as requests are answered; the gauges
of what the store holds (views and outbox lag, dead letters, the quarantine) are read at
scrape time in a worker thread (`Runtime.measure`, at most once a second), never on the event
loop. A store that cannot be read leaves the last reading in place: the counters still come.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.redaction import redact_line
from adapters.web.handler import STORAGE_ERRORS
from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "metrics_routes"]

LOG = logging.getLogger("engage.error")
_UNREADABLE: tuple[type[Exception], ...] = (*STORAGE_ERRORS, sqlite3.Error, RuntimeError)

OPENAPI_SCHEMAS: dict[str, Any] = {}
OPENAPI_PATHS: dict[str, Any] = {
    "/metrics": {"get": {
        "operationId": "metrics", "summary": "Prometheus metrics",
        "description": "Requests by route and status, request latency, inputs by outcome, "
        "refusals not held, views and outbox lag, dead letters, the quarantine's size "
        "(docs/service.md).",
        "responses": {"200": {"description": "the metrics, in Prometheus' text format 0.0.4",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}},
    }},
}  # fmt: skip


def metrics_routes(runtime: Runtime) -> list[Route]:
    async def metrics(_: Request) -> Response:
        try:
            await runtime.run(runtime.measure)
        except _UNREADABLE as error:
            LOG.warning("the store's gauges could not be read: %s",
                        redact_line(f"{type(error).__name__}: {error}")[:500])  # fmt: skip
        body = generate_latest(runtime.metrics.registry)
        return Response(body, headers={"content-type": CONTENT_TYPE_LATEST})

    return [Route("/metrics", metrics, methods=["GET"])]
