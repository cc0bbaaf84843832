"""The provider webhook routes: `POST /webhooks/{twilio,sendgrid,meta}` and Meta's
`GET /webhooks/meta` handshake.

The body is read here, on the event loop, as it streams in (bounded by the limit); the URL the
provider signed is rebuilt here from what reached the server; the rest (verify, parse, apply,
hold) is `handle_webhook`'s, in a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.providers.base import BodyPrefix
from adapters.providers.registry import PROVIDERS
from adapters.web.body import read_limited
from adapters.web.runtime import Runtime
from adapters.web.urls import request_url

__all__ = ["signed_url", "webhook_routes"]


def signed_url(request: Request, runtime: Runtime) -> str:
    """The URL as the provider called it (before `public_url`, which `handle_webhook` puts
    in): the path as received, percent-encoding and any mount prefix kept."""
    scope = request.scope
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path
    server = scope.get("server") or ("localhost", 80)
    host = request.headers.get("host") or f"{server[0]}:{server[1]}"
    return request_url(
        scheme=str(scope.get("scheme", "http")), host=host, path=path,
        query=scope.get("query_string", b"").decode("latin-1"),
        peer=request.client.host if request.client else None,
        headers=request.headers, settings=runtime.settings,
    )  # fmt: skip


def _endpoint(provider: str, runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def webhook(request: Request) -> Response:
        limits = runtime.settings.limits
        body: bytes | BodyPrefix = b""
        if request.method == "POST":
            body = await read_limited(request.stream(), limits.provider_body_bytes,
                                      keep=limits.unauthenticated_body_prefix_bytes)  # fmt: skip
        url = signed_url(request, runtime)
        status, headers, content = await runtime.run(
            runtime.webhook, provider, request.method, url, request.headers.items(), body
        )
        return Response(content, status_code=status, headers=dict(headers))

    webhook.__name__ = f"{provider}_webhook"
    return webhook


def webhook_routes(runtime: Runtime) -> list[Route]:
    """One route per provider; Meta's also answers the GET handshake."""
    routes = []
    for provider in PROVIDERS:
        methods = ["GET", "POST"] if provider == "meta" else ["POST"]
        routes.append(Route(f"/webhooks/{provider}", _endpoint(provider, runtime), methods=methods))
    return routes
