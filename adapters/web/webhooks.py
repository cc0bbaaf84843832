"""The provider webhook routes: `POST /webhooks/{twilio,sendgrid,meta}` and Meta's
`GET /webhooks/meta` handshake.

The body is read here, on the event loop, as it streams in (bounded by the limit, and never
read far past it: `body.read_bounded`; a body cut short is answered with `Connection: close`,
its unread rest left to the closing connection); the URL the provider signed is rebuilt here
from what reached the server; the rest (verify, parse, apply, hold) is `handle_webhook`'s, in
a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.providers.base import BodyPrefix
from adapters.providers.registry import PROVIDERS
from adapters.web.body import declared_length, read_bounded
from adapters.web.runtime import Runtime
from adapters.web.urls import client_address, request_url

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "signed_url", "webhook_routes"]

OPENAPI_SCHEMAS: dict[str, Any] = {
    "IngestReport": {
        "type": "object", "description": "What became of a request's provider events",
        "required": ["received", "applied", "duplicates", "late", "conflicts", "rejected",
                     "quarantined"],
        "properties": {name: {"type": "integer", "minimum": 0} for name in (
            "received", "applied", "unchanged", "duplicates", "late", "conflicts", "partial",
            "rejected", "quarantined")},
        "additionalProperties": True,
    },
}  # fmt: skip


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _webhook_post(provider: str, media_types: tuple[str, ...], security: str) -> dict[str, Any]:
    body = {"type": "array"} if provider == "sendgrid" else {"type": "object"}
    report = {"$ref": "#/components/schemas/IngestReport"}
    return {
        "operationId": f"{provider}_webhook", "summary": f"{provider.title()}'s webhook",
        "security": [{security: []}],
        "requestBody": {"required": True,
                        "content": {media: {"schema": body} for media in media_types}},
        "responses": {
            "200": {"description": "kept: applied, or held in quarantine",
                    "content": {"application/json": {"schema": report}}},
            "400": _error("malformed body (held)"), "401": _error("signature refused (held)"),
            "413": _error("body over the limit (its prefix held)"),
            "415": _error("a content type the provider never posts"),
            "503": _error("storage unavailable: retry"),
        },
    }  # fmt: skip


OPENAPI_PATHS: dict[str, Any] = {
    "/webhooks/twilio": {"post": _webhook_post(
        "twilio", ("application/x-www-form-urlencoded", "application/json"), "twilioSignature")},
    "/webhooks/sendgrid": {"post": _webhook_post(
        "sendgrid", ("application/json",), "sendgridSignature")},
    "/webhooks/meta": {
        "post": _webhook_post("meta", ("application/json",), "metaSignature"),
        "get": {
            "operationId": "meta_handshake", "summary": "Meta's subscription handshake",
            "parameters": [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in ("hub.mode", "hub.verify_token", "hub.challenge")],
            "responses": {"200": {"description": "the challenge, echoed",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}},
                          "403": _error("handshake refused")},
        },
    },
}  # fmt: skip


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
        cut = False
        if request.method == "POST":
            read = await read_bounded(
                request.stream(), limits.provider_body_bytes,
                keep=limits.unauthenticated_body_prefix_bytes,
                declared=declared_length(request.headers),
                peek="100-continue" not in request.headers.get("expect", "").lower(),
            )  # fmt: skip
            body, cut = read.body, read.cut
        url = signed_url(request, runtime)
        peer = request.client.host if request.client else None
        source = client_address(peer, request.headers, runtime.settings)
        status, headers, content = await runtime.run(
            runtime.webhook, provider, request.method, url, request.headers.items(), body, source
        )
        answer_headers = dict(headers)
        if cut:  # the body's rest is still coming: only closing the connection ends it
            answer_headers["connection"] = "close"
        return Response(content, status_code=status, headers=answer_headers)

    webhook.__name__ = f"{provider}_webhook"
    return webhook


def webhook_routes(runtime: Runtime) -> list[Route]:
    """One route per provider; Meta's also answers the GET handshake."""
    routes = []
    for provider in PROVIDERS:
        methods = ["GET", "POST"] if provider == "meta" else ["POST"]
        routes.append(Route(f"/webhooks/{provider}", _endpoint(provider, runtime), methods=methods))
    return routes
