"""`GET /healthz` (the process answers) and `GET /readyz` (its store answers, and the views
are caught up with the log within `settings.ready_max_lag` events: a service whose views are
far behind would publish late and answer view-backed queries with stale rows, so a load
balancer should wait for it)."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.web.handler import STORAGE_ERRORS, UNAVAILABLE_REASON, log_unavailable
from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "health_routes"]

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "ready", "behind", "unavailable"]},
            "position": {"type": "integer", "description": "the log's last position"},
            "lag": {
                "type": "integer",
                "description": "events the furthest-behind view has yet to apply",
            },
            "max_lag": {"type": "integer", "description": "ENGAGE_READY_MAX_LAG"},
            "views": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "each view's lag, in events",
            },
            "views_kept_here": {
                "type": "boolean",
                "description": "whether this service keeps the views (their lag counts)",
            },
            "reason": {"type": "string"},
        },
    },
}
_HEALTH = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
OPENAPI_PATHS: dict[str, Any] = {
    "/healthz": {"get": {"operationId": "healthz", "summary": "The process answers",
                         "responses": {"200": {"description": "alive", **_HEALTH}}}},
    "/readyz": {"get": {"operationId": "readyz",
                        "summary": "The store answers and the views are caught up",
                        "responses": {"200": {"description": "ready", **_HEALTH},
                                      "503": {"description": "the store does not answer, or "
                                              "the views are behind", **_HEALTH}}}},
}  # fmt: skip

# a store that cannot be reached, or an app already shut down
_UNREADY: tuple[type[Exception], ...] = (*STORAGE_ERRORS, sqlite3.Error, RuntimeError)


def health_routes(runtime: Runtime) -> list[Route]:
    async def healthz(_: Request) -> JSONResponse:
        """Alive: answered on the event loop, touching nothing else."""
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        """Ready: the store answers a cheap read (its last position) and the views are within
        `ready_max_lag` of it (when this service keeps them), read in a worker thread."""
        try:
            found = await runtime.run(runtime.readiness)
        except _UNREADY as error:
            log_unavailable(error)  # the detail is the operator's; callers are anyone
            down = {"status": "unavailable", "reason": UNAVAILABLE_REASON}
            return JSONResponse(down, status_code=503)
        most = runtime.settings.ready_max_lag
        answer: dict[str, Any] = {
            "status": "ready", "position": found.position, "lag": found.lag, "max_lag": most,
            "views": found.views, "views_kept_here": found.kept_here,
        }  # fmt: skip
        if found.kept_here and found.lag > most:
            reason = f"the views are {found.lag} events behind the log (at most {most})"
            return JSONResponse({**answer, "status": "behind", "reason": reason}, status_code=503)
        return JSONResponse(answer)

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
