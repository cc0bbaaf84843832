"""Segment's Tracking API: `POST /v1/batch`, `/v1/identify`, `/v1/track`, `/v1/page`,
`/v1/screen`, `/v1/group`, `/v1/alias`, so that Segment's own libraries (pointed at this
service as their host) can send consent here.

What Engage takes from a call is an identify's `context.messaging_subscriptions`, applied
exactly as `engage subscriptions identify` applies it (`adapters.consent_requests`); every
other call (a track, a page, an identify without subscriptions) is acknowledged and counted,
never stored, so a library sending its whole stream here loses nothing it needs. Auth is
Segment's: the write key as the Basic user name (`ENGAGE_WRITE_KEY`, a list for rotation);
a `writeKey` inside the body is neither needed nor read, and never echoed.

Answers are Segment's (`{"success": true}`, 200) with Engage's counts beside it; a request
that cannot be read at all is a 4xx that changes nothing, and storage failing is 503 with
Retry-After, which Segment's clients retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.consent_requests import (
    RequestRefused,
    apply_identify_calls,
    identify_item_count,
)
from adapters.web.answers import Answer, json_answer, refusal_answer
from adapters.web.auth import write_key_refusal
from adapters.web.handler import STORAGE_ERRORS, unavailable
from adapters.web.json_body import BodyRefused, read_json
from adapters.web.runtime import Runtime
from engage_core.counts import Counts
from engage_core.limits import SETTINGS

__all__ = ["CALL_TYPES", "OPENAPI_PATHS", "OPENAPI_SCHEMAS", "tracking_routes"]

# the calls Segment's spec defines; each also has its own route, `/v1/<type>`
CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")
_JSON = frozenset({"application/json"})


def _calls(document: object, kind: str | None) -> list[Any]:
    """The calls a body holds: a batch's `batch` list, or the one call a `/v1/<type>` route
    takes (its type being the route's, as Segment sets it)."""
    if kind is None:
        calls = document.get("batch") if isinstance(document, dict) else None
        if not isinstance(calls, list):
            raise RequestRefused('expected {"batch": [...]}')
        return calls
    if not isinstance(document, dict):
        raise RequestRefused(f"expected one {kind} call, a JSON object")
    return [{**document, "type": kind}]


def _carries_consent(call: object) -> bool:
    """An identify call that names subscriptions (a list, or anything else, to be refused)."""
    if not isinstance(call, dict) or call.get("type") != "identify":
        return False
    context = call.get("context")
    return isinstance(context, dict) and "messaging_subscriptions" in context


def _apply(runtime: Runtime, calls: list[Any]) -> dict[str, Any]:
    """Apply what the calls say of consent (one save), count the rest (blocks: a thread)."""
    consent = [(n, call) for n, call in enumerate(calls, start=1) if _carries_consent(call)]
    errors: list[dict[str, str]] = []
    acknowledged = rejected = 0
    for number, call in enumerate(calls, start=1):
        if _carries_consent(call):
            continue
        if isinstance(call, dict) and call.get("type") in CALL_TYPES:
            acknowledged += 1
            continue
        rejected += 1
        what = "has no type Segment defines" if isinstance(call, dict) else "is not an object"
        errors.append({"code": "INVALID_REQUEST", "message": f"call {number} {what}"})
    counts = {**Counts().as_dict(), "clamped": 0}
    if consent:
        result = apply_identify_calls(runtime.application(), consent, now=datetime.now(UTC))
        counts = result.counts
        errors += [{"code": code, "message": reason} for code, reason in result.rejections]
    return {"success": True, "calls": len(calls), "acknowledged": acknowledged,
            "rejected": rejected, "subscriptions": counts, "errors": errors}  # fmt: skip


async def _answer(runtime: Runtime, request: Request, kind: str | None) -> Answer:
    refusal = write_key_refusal(request.headers, runtime.settings.write_keys)
    if refusal is not None:
        return refusal
    limits = runtime.settings.limits
    try:
        calls = _calls(await read_json(request, limits, _JSON), kind)
    except BodyRefused as refused:
        return refused.answer
    except RequestRefused as error:
        return refusal_answer(400, str(error))
    items = identify_item_count(calls)
    if items > limits.api_items:
        return refusal_answer(413, f"{items} calls and subscription items, over the limit of "
                              f"{limits.api_items} per request ({SETTINGS['api_items']}); "
                              "nothing was applied")  # fmt: skip
    try:
        answer = await runtime.run(_apply, runtime, calls)
    except STORAGE_ERRORS as error:
        return unavailable(error)
    runtime.metrics.inputs("identify", answer["subscriptions"])
    others = {"unchanged": answer["acknowledged"], "rejected": answer["rejected"]}
    runtime.metrics.inputs("tracking", others)
    return json_answer(200, answer)


def _endpoint(runtime: Runtime, kind: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def tracking(request: Request) -> Response:
        status, headers, body = await _answer(runtime, request, kind)
        return Response(body, status_code=status, headers=dict(headers))

    tracking.__name__ = f"tracking_{kind or 'batch'}"
    return tracking


def tracking_routes(runtime: Runtime) -> list[Route]:
    """`POST /v1/batch` and one `POST /v1/<type>` per call type."""
    routes = [Route("/v1/batch", _endpoint(runtime, None), methods=["POST"])]
    for kind in CALL_TYPES:
        routes.append(Route(f"/v1/{kind}", _endpoint(runtime, kind), methods=["POST"]))
    return routes


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_COUNT = {"type": "integer", "minimum": 0}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "TrackingBatch": {
        "type": "object", "required": ["batch"],
        "description": "Segment's batch: calls of any type; only identify calls' "
                       "context.messaging_subscriptions change anything",
        "properties": {"batch": {"type": "array", "items": {"type": "object"}},
                       "sentAt": {"type": "string"}},
    },
    "TrackingCall": {
        "type": "object", "description": "One Segment call (its type is the route's)",
        "properties": {"userId": {"type": "string"}, "anonymousId": {"type": "string"},
                       "messageId": {"type": "string"}, "timestamp": {"type": "string"},
                       "context": {"type": "object"}},
    },
    "TrackingAnswer": {
        "type": "object",
        "required": ["success", "calls", "acknowledged", "rejected", "subscriptions", "errors"],
        "properties": {
            "success": {"const": True}, "calls": _COUNT, "acknowledged": _COUNT,
            "rejected": _COUNT,
            "subscriptions": {
                "type": "object", "description": "what the identify calls' items did",
                "required": ["received", "applied", "unchanged", "duplicates", "late",
                             "rejected", "clamped"],
                "properties": {name: _COUNT for name in (
                    "received", "applied", "unchanged", "duplicates", "late", "conflicts",
                    "partial", "rejected", "quarantined", "clamped")},
            },
            "errors": {"type": "array", "items": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
        },
    },
}  # fmt: skip


def _operation(kind: str | None) -> dict[str, Any]:
    body = "TrackingBatch" if kind is None else "TrackingCall"
    answer = {"$ref": "#/components/schemas/TrackingAnswer"}
    return {
        "operationId": f"tracking_{kind or 'batch'}",
        "summary": f"Segment's {kind or 'batch'} call" + ("s" if kind is None else ""),
        "security": [{"writeKey": []}],
        "parameters": [{"name": "Content-Encoding", "in": "header", "required": False,
                        "schema": {"type": "string", "enum": ["gzip", "identity"]}}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}},
        "responses": {
            "200": {"description": "received: consent applied, other calls acknowledged",
                    "content": {"application/json": {"schema": answer}}},
            "400": _error("not JSON, not gzip, or not a batch or call: nothing applied"),
            "401": _error("no write key, or not one accepted"),
            "413": _error("over the body or item limit (inflated too): nothing applied"),
            "415": _error("not application/json, or an encoding other than gzip"),
            "503": _error("storage unavailable: retry"),
        },
    }  # fmt: skip


OPENAPI_PATHS: dict[str, Any] = {
    "/v1/batch": {"post": _operation(None)},
    **{f"/v1/{kind}": {"post": _operation(kind)} for kind in CALL_TYPES},
}
