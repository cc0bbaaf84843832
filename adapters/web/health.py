"""`GET /healthz` (the process answers) and `GET /readyz` (and so does its store)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.redaction import redact_line
from adapters.web.handler import STORAGE_ERRORS
from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "health_routes"]

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Health": {"type": "object", "required": ["status"],
               "properties": {"status": {"type": "string"}, "position": {"type": "integer"},
                              "reason": {"type": "string"}}},
}
_HEALTH = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
OPENAPI_PATHS: dict[str, Any] = {
    "/healthz": {"get": {"operationId": "healthz", "summary": "The process answers",
                         "responses": {"200": {"description": "alive", **_HEALTH}}}},
    "/readyz": {"get": {"operationId": "readyz", "summary": "The store answers",
                        "responses": {"200": {"description": "ready", **_HEALTH},
                                      "503": {"description": "not ready", **_HEALTH}}}},
}  # fmt: skip

# a store that cannot be reached, or an app already shut down
_UNREADY: tuple[type[Exception], ...] = (*STORAGE_ERRORS, RuntimeError)


def health_routes(runtime: Runtime) -> list[Route]:
    async def healthz(_: Request) -> JSONResponse:
        """Alive: answered on the event loop, touching nothing else."""
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        """Ready: the store answers a cheap read (its last position), in a worker thread."""
        try:
            position = await runtime.run(runtime.ready)
        except _UNREADY as error:
            reason = redact_line(f"{type(error).__name__}: {error}")[:500]
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready", "position": position})

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
