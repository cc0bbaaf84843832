"""`create_app`: Engage's ASGI application, to serve with uvicorn (`engage serve`) or mount in
a Starlette or FastAPI app of your own.

A router per concern (`health`, `metrics_route`, `webhooks`, `tracking`, `public_api`, `api`,
`openapi`), each a list of routes over one shared `Runtime`; every request goes through
`Observability` (request id, access log, request metrics).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from adapters.web.answers import refusal_answer
from adapters.web.api import api_routes
from adapters.web.health import health_routes
from adapters.web.metrics_route import metrics_routes
from adapters.web.observability import Observability
from adapters.web.openapi import openapi_routes
from adapters.web.pages import page_routes
from adapters.web.public_api import public_api_routes
from adapters.web.runtime import Runtime
from adapters.web.settings import WebSettings
from adapters.web.tracking import tracking_routes
from adapters.web.webhooks import webhook_routes
from engage_core import EngageApplication

__all__ = ["create_app", "create_app_from_environment"]


def create_app(
    application: EngageApplication | None = None, settings: WebSettings | None = None
) -> Starlette:
    """The service. Without `application`, one is opened on `settings.store_url` (default
    `ENGAGE_STORE`) when the server starts, and closed when it stops; a given one is used as
    it is and left open. Without `settings`, `WebSettings.from_environment()`."""
    runtime = Runtime(application, settings or WebSettings.from_environment())
    routes = [
        *health_routes(runtime), *metrics_routes(runtime), *webhook_routes(runtime),
        *tracking_routes(runtime), *public_api_routes(runtime), *api_routes(runtime),
        *page_routes(runtime), *openapi_routes(),
    ]  # fmt: skip
    observed = Middleware(Observability, routes=routes, metrics=runtime.metrics)
    return Starlette(routes=routes, middleware=[observed], lifespan=runtime.lifespan,
                     exception_handlers={HTTPException: _refusal})  # fmt: skip


async def _refusal(_: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such route: 404; a route without that method: 405) in the
    JSON every other refusal of the service has, `{"error", "reason"}`, with their headers."""
    assert isinstance(error, HTTPException)
    reason = {404: "no such route", 405: "method not allowed on this route"}.get(
        error.status_code, str(error.detail))
    given = (error.headers or {}).items()
    status, headers, body = refusal_answer(error.status_code, reason, *given)
    return Response(body, status_code=status, headers=dict(headers))


def create_app_from_environment() -> Starlette:
    """The factory each `engage serve --workers N` worker calls: its own application, from
    the environment the command set."""
    return create_app()
