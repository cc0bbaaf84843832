"""`GET /openapi.json`: an OpenAPI 3.1 document of every route the service answers.

Each route module declares its own operations (`OPENAPI_PATHS`) and the schemas they name
(`OPENAPI_SCHEMAS`) beside the code that answers them; this module only gathers them, with
the security schemes they share, so the document and the routes are changed together.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.web import api, health, metrics_route, public_api, tracking, webhooks

__all__ = ["openapi_document", "openapi_routes"]

_MODULES = (health, metrics_route, webhooks, tracking, public_api, api)

SECURITY_SCHEMES: dict[str, Any] = {
    "writeKey": {"type": "http", "scheme": "basic",
                 "description": "Segment's write key as the user name, the password empty "
                 "(ENGAGE_WRITE_KEY)"},
    "apiToken": {"type": "http", "scheme": "bearer",
                 "description": "a token from ENGAGE_API_TOKEN"},
    "twilioSignature": {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature"},
    "sendgridSignature": {"type": "apiKey", "in": "header",
                          "name": "X-Twilio-Email-Event-Webhook-Signature"},
    "metaSignature": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256"},
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "reason"],
    "properties": {"error": {"type": "string"}, "reason": {"type": "string"}},
    "additionalProperties": True,
}


def openapi_document() -> dict[str, Any]:
    """The whole document, gathered from the route modules."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for module in _MODULES:
        paths.update(module.OPENAPI_PATHS)
        schemas.update(module.OPENAPI_SCHEMAS)
    from adapters.cli.verbs import installed_version

    return {
        "openapi": "3.1.0",
        "info": {"title": "Engage", "version": installed_version(),
                 "description": "Message lifecycles and consent, event-sourced "
                 "(docs/service.md)."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }


def openapi_routes() -> list[Route]:
    document = openapi_document()

    async def openapi(_: Request) -> JSONResponse:
        return JSONResponse(document)

    return [Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False)]
