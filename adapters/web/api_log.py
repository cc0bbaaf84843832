"""`GET /api/events` and `GET /api/quarantine`: `engage events` and `engage quarantine list`
over HTTP, as the same JSON Lines (`application/x-ndjson`), line for line.

Events are read from the outbox view after catching it up with the log, as `engage events`
does, from the store's views (`views_of`); a page is at most `limit`
events (default 1000, at most 10000), and the next page starts at the last line's `position`.
The quarantine is streamed a few entries at a time, each read in a worker thread, since a held
request keeps its whole body (up to the provider body limit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from adapters.cli import arguments
from adapters.queries import events_page, held_answers, held_ids_of
from adapters.web.api_common import Query, error_schema, guarded
from adapters.web.runtime import Runtime

__all__ = ["DEFAULT_EVENTS", "MOST_EVENTS", "OPENAPI_PATHS", "OPENAPI_SCHEMAS", "log_routes"]

DEFAULT_EVENTS = 1000
MOST_EVENTS = 10_000
HELD_PAGE = 16  # held entries read per worker-thread call while streaming the quarantine
NDJSON = "application/x-ndjson"

OPENAPI_SCHEMAS: dict[str, Any] = {}



def _lines(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {NDJSON: {"schema": {"type": "string"}}}}  # fmt: skip


def _responses(description: str) -> dict[str, Any]:
    return {"200": _lines(description), "400": error_schema("a bad parameter (named)"),
            "401": error_schema("no accepted Bearer token"),
            "503": error_schema("storage unavailable: retry")}  # fmt: skip


OPENAPI_PATHS: dict[str, Any] = {
    "/api/events": {"get": {
        "operationId": "events", "summary": "Segment-spec events published, in outbox order",
        "security": [{"apiToken": []}],
        "parameters": [
            {"name": "since", "in": "query", "required": False,
             "description": "the outbox position to read after (default 0)",
             "schema": {"type": "integer", "minimum": 0, "maximum": arguments.LARGEST_INTEGER}},
            {"name": "limit", "in": "query", "required": False,
             "description": f"events at most (default {DEFAULT_EVENTS})",
             "schema": {"type": "integer", "minimum": 1, "maximum": MOST_EVENTS}}],
        "responses": _responses(
            "JSON Lines: {\"position\": N, …the track event}, as `engage events` prints"),
    }},
    "/api/quarantine": {"get": {
        "operationId": "quarantine_list", "summary": "Requests held, with their reasons",
        "security": [{"apiToken": []}],
        "parameters": [{"name": "all", "in": "query", "required": False,
                        "description": "released entries too",
                        "schema": {"type": "boolean"}}],
        "responses": _responses("JSON Lines, one held request a line, oldest first, as "
                                "`engage quarantine list` prints"),
    }},
}  # fmt: skip


def _events(runtime: Runtime, since: int, limit: int) -> bytes:
    outbox = runtime.caught_up_outbox()
    return b"".join(orjson.dumps(line) + b"\n" for line in events_page(outbox, since, limit))


def log_routes(runtime: Runtime) -> list[Route]:
    async def events(request: Request) -> Response:
        """Published events after `since`, at most `limit`, after catching the outbox up."""
        query = Query(request, "since", "limit")
        since = query.one("since", arguments.position) or 0
        limit = query.one("limit", arguments.bounded(1, MOST_EVENTS)) or DEFAULT_EVENTS
        body = await runtime.run(lambda: _events(runtime, since, limit))
        return Response(body, media_type=NDJSON)

    async def quarantine(request: Request) -> Response:
        """Held requests, oldest first (released ones too with `all`). The first page is
        read before answering, so a store that fails is a 503, not a cut-off 200."""
        include = Query(request, "all").flag("all")
        ids = await runtime.run(lambda: held_ids_of(runtime.application()))

        def page(start: int) -> list[dict[str, Any]]:
            chosen: list[UUID] = ids[start : start + HELD_PAGE]
            return held_answers(runtime.application(), chosen, include_released=include)

        first = await runtime.run(page, 0)

        async def lines() -> AsyncIterator[bytes]:
            for start in range(0, len(ids), HELD_PAGE):
                found = first if start == 0 else await runtime.run(page, start)
                for entry in found:
                    yield orjson.dumps(entry) + b"\n"

        return StreamingResponse(lines(), media_type=NDJSON)

    return [
        Route("/api/events", guarded(runtime, events), methods=["GET"]),
        Route("/api/quarantine", guarded(runtime, quarantine), methods=["GET"]),
    ]
