"""`GET /healthz` (the process answers) and `GET /readyz` (and so does its store)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.redaction import redact_line
from adapters.web.handler import STORAGE_ERRORS
from adapters.web.runtime import Runtime

__all__ = ["health_routes"]

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
