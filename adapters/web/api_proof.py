"""`GET /api/proof/{channel}/{key}`: a contact's consent proof (history, provenance, evidence
and digest), as `engage proof` exports it: JSON, or with `format=html` a print-ready page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from adapters.cli import arguments
from adapters.proof_html import proof_html
from adapters.web.api_common import (
    BadRequest,
    Query,
    any_text_route,
    error_schema,
    guarded,
    json_response,
)
from adapters.web.api_consent import contact_from_path
from adapters.web.page_render import PAGE_HEADERS
from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "proof_routes"]

_STATE = {
    "type": "object", "required": ["status", "locked_by_user", "since"],
    "properties": {"status": {"type": ["string", "null"]}, "locked_by_user": {"type": "boolean"},
                   "since": {"type": ["string", "null"]}},
}  # fmt: skip

OPENAPI_SCHEMAS: dict[str, Any] = {
    "ConsentProof": {
        "type": "object",
        "description": "A contact's consent history with provenance and evidence, as "
        "`engage proof` exports it; `digest` is SHA-256 of the canonical JSON (sorted keys, "
        "no spaces) without `digest` and `generated_at`",
        "required": ["format", "channel", "key", "key_sha256", "as_of", "state", "groups",
                     "user_ids", "history", "digest", "generated_at"],
        "properties": {
            "format": {"type": "string"}, "channel": {"type": "string"},
            "key": {"type": "string"}, "key_sha256": {"type": "string"},
            "as_of": {"type": ["string", "null"]}, "state": _STATE,
            "groups": {"type": "object", "additionalProperties": _STATE},
            "user_ids": {"type": "array", "items": {"type": "string"}},
            "history": {"type": "array", "items": {"type": "object"}},
            "digest": {"type": "string"}, "generated_at": {"type": "string"},
        },
    },
}  # fmt: skip

OPENAPI_PATHS: dict[str, Any] = {
    "/api/proof/{channel}/{key}": {"get": {
        "operationId": "consent_proof", "summary": "A contact's consent proof, for a TCPA "
        "or GDPR request", "security": [{"apiToken": []}],
        "parameters": [
            {"name": "channel", "in": "path", "required": True,
             "description": "EMAIL, SMS or WHATSAPP (any case)",
             "schema": {"type": "string", "minLength": 1}},
            {"name": "key", "in": "path", "required": True,
             "description": "the email address or phone number",
             "schema": {"type": "string", "minLength": 1}},
            {"name": "as_of", "in": "query", "required": False,
             "description": "ISO-8601: the history as it stood then", "schema": {"type": "string"}},
            {"name": "format", "in": "query", "required": False,
             "description": "json (default) or html (a print-ready page)",
             "schema": {"type": "string", "enum": ["json", "html"]}}],
        "responses": {
            "200": {"description": "the proof (an unknown contact: an empty history)",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ConsentProof"}},
                        "text/html": {"schema": {"type": "string"}}}},
            "400": error_schema("a bad parameter (named)"),
            "401": error_schema("no accepted Bearer token"),
            "503": error_schema("storage unavailable: retry"),
        },
    }},
}  # fmt: skip


# the contact's pages' headers, with the proof's own style sheet inline (it is one file)
_HTML_HEADERS = {
    **PAGE_HEADERS,
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
}


def _format(value: str) -> str:
    if value not in ("json", "html"):
        raise BadRequest("format", f"format: json or html (got {value[:20]!r})")
    return value


def proof_routes(runtime: Runtime) -> list[Route]:
    async def proof(request: Request) -> Response:
        """A contact's consent proof, from the log."""
        query = Query(request, "as_of", "format")
        as_of = query.one("as_of", arguments.timestamp)
        chosen = _format(query.one("format", arguments.text) or "json")
        contact = contact_from_path(request.path_params["channel"], request.path_params["key"])
        document = await runtime.run(
            lambda: runtime.application().consent_proof(contact, as_of=as_of)
        )
        if chosen == "html":  # personal data: never cached, never framed, nothing run
            return HTMLResponse(proof_html(document), headers=_HTML_HEADERS)
        return json_response(document)

    return [any_text_route("/api/proof/{channel}/{key:path}", guarded(runtime, proof), "GET")]
