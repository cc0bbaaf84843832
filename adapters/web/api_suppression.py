"""`/api/suppressions`: a contact's suppressions, and an operator lifting one with a reason.

`GET /api/suppressions/{channel}/{key}` is `engage suppression show`; `POST
/api/suppressions/{channel}/{key}/lift` with `{"reason": …, "operator": …}` is `engage
suppression lift`; both answered by the same functions (`adapters.queries`). The channel and
key are read as `GET /api/subscriptions/…` reads them, so a value refused there is refused
here, as a 400 naming it. A contact never suppressed is an answer (`suppressed: false`), not a
404; a lift is recorded whether or not the contact is suppressed (it sets the facts before it
aside), and says what it lifted (`lifted`, null for nothing).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.queries import lift_answer, suppression_answer
from adapters.web.api_common import (
    BadRequest,
    Query,
    answered_schema,
    any_text_route,
    error_schema,
    guarded,
    json_response,
)
from adapters.web.api_consent import contact_from_path
from adapters.web.api_messages import read_json_object
from adapters.web.runtime import Runtime
from engage_core.errors import InvalidInput
from engage_core.limits import SETTINGS

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "suppression_routes"]

_TEXT = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_MAYBE = {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Suppression"}]}
_RULES = ["hard_bounce", "soft_bounce", "dropped", "spam_report", "carrier_error"]
_ANSWER_FIELDS = ["channel", "key", "suppressed", "suppression", "policy", "facts", "lifts",
                  "history"]  # fmt: skip

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Suppression": {
        "type": "object", "description": "Why a contact is suppressed, and under which policy",
        "required": ["rule", "reason", "since", "policy", "evidence"],
        "properties": {
            "rule": {"type": "string", "enum": _RULES}, "reason": _TEXT, "since": _TIME,
            "policy": {"type": "string", "description": "policy@vN"},
            "evidence": {"type": "array", "items": _TEXT,
                         "description": "the ids of the reports that made it"}},
    },
    "SuppressionAnswer": {
        "type": "object", "description": "A contact's suppression as `engage suppression show` "
        "prints it", "required": _ANSWER_FIELDS,
        "properties": {
            "channel": {"type": "string", "enum": ["EMAIL", "SMS", "WHATSAPP"]}, "key": _TEXT,
            "suppressed": {"type": "boolean"}, "suppression": _MAYBE,
            "policy": {"type": ["string", "null"]},
            "facts": {"type": "array", "items": {
                "type": "object",
                "required": ["kind", "occurred_at", "message_id", "event_id", "code"],
                "properties": {"kind": {"type": "string", "enum": _RULES}, "occurred_at": _TIME,
                               "message_id": {"type": "string", "format": "uuid"},
                               "event_id": _TEXT, "code": {"type": ["string", "null"]}}}},
            "lifts": {"type": "array", "items": {
                "type": "object", "required": ["at", "operator", "reason"],
                "properties": {"at": _TIME, "operator": _TEXT, "reason": _TEXT}}},
            "history": {"type": "array", "items": {
                "type": "object",
                "required": ["recorded_at", "cause", "cause_id", "policy", "before", "after"],
                "properties": {"recorded_at": _TIME,
                               "cause": {"type": "string", "enum": ["fact", "lift", "rederive"]},
                               "cause_id": _TEXT, "policy": _TEXT, "before": _MAYBE,
                               "after": _MAYBE}}}},
    },
    "SuppressionLifted": {"allOf": [{"$ref": "#/components/schemas/SuppressionAnswer"}, {
        "type": "object", "required": ["lifted"], "properties": {"lifted": _MAYBE}}]},
    "SuppressionLift": {
        "type": "object", "required": ["reason"], "additionalProperties": False,
        "properties": {
            "reason": {"type": "string", "minLength": 1, "maxLength": 1000,
                       "description": "why it is lifted (kept in the history)"},
            "operator": {"type": "string", "minLength": 1, "maxLength": 200,
                         "description": "who lifts it (default: api)"}},
    },
}  # fmt: skip



def _answered(schema: str, description: str) -> dict[str, Any]:
    return answered_schema(schema, description, "a bad parameter or field (named)")


_PATH = [
    {"name": "channel", "in": "path", "required": True, "description": "EMAIL, SMS or WHATSAPP",
     "schema": {"type": "string", "minLength": 1}},
    {"name": "key", "in": "path", "required": True,
     "description": "the email address or phone number",
     "schema": {"type": "string", "minLength": 1}},
]  # fmt: skip

OPENAPI_PATHS: dict[str, Any] = {
    "/api/suppressions/{channel}/{key}": {"get": {
        "operationId": "suppression", "summary": "Whether a contact is suppressed, and why",
        "security": [{"apiToken": []}], "parameters": _PATH,
        "responses": _answered("SuppressionAnswer",
                               "answered (never suppressed: suppressed false)"),
    }},
    "/api/suppressions/{channel}/{key}/lift": {"post": {
        "operationId": "lift_suppression", "summary": "Lift a contact's suppression, with a reason",
        "security": [{"apiToken": []}], "parameters": _PATH,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/SuppressionLift"}}}},
        "responses": {**_answered("SuppressionLifted", "recorded (`lifted`: what it lifted)"),
                      "413": error_schema("body over ENGAGE_MAX_API_REQUEST_BYTES"),
                      "415": error_schema("not application/json")},
    }},
}  # fmt: skip

_FIELDS = frozenset({"reason", "operator"})


def _lift_fields(document: dict[str, Any]) -> tuple[str, str]:
    """The reason and the operator (default `api`); a 400 naming any other field, or one
    that is not a string."""
    for name in document:
        if name not in _FIELDS:
            raise BadRequest(str(name)[:80], f"unknown field {str(name)[:80]!r} (known: "
                             "operator, reason)")  # fmt: skip
    if "reason" not in document:
        raise BadRequest("reason", "reason: required")
    reason, operator = document["reason"], document.get("operator", "api")
    for name, value in (("reason", reason), ("operator", operator)):
        if not isinstance(value, str):
            raise BadRequest(name, f"{name}: a string (got {type(value).__name__})")
    return reason, operator


def suppression_routes(runtime: Runtime) -> list[Route]:
    """The routes over one runtime."""
    limits = runtime.settings.limits

    async def suppression(request: Request) -> Response:
        """A contact's suppression, and the facts, lifts and changes it was derived from."""
        Query(request)
        contact = contact_from_path(request.path_params["channel"], request.path_params["key"])
        answer = await runtime.run(lambda: suppression_answer(runtime.application(), contact))
        return json_response(answer)

    async def lift(request: Request) -> Response:
        """An operator lifts a contact's suppression, with a reason."""
        Query(request)
        contact = contact_from_path(request.path_params["channel"], request.path_params["key"])
        document = await read_json_object(
            request, limits.api_request_bytes, SETTINGS["api_request_bytes"])  # fmt: skip
        reason, operator = _lift_fields(document)
        try:
            answer = await runtime.run(lambda: lift_answer(
                runtime.application(), contact, reason=reason, operator=operator))  # fmt: skip
        except InvalidInput as error:
            raise BadRequest.of(error) from None
        return json_response(answer)

    return [
        any_text_route("/api/suppressions/{channel}/{key:path}/lift",
                       guarded(runtime, lift), "POST"),
        any_text_route("/api/suppressions/{channel}/{key:path}",
                       guarded(runtime, suppression), "GET"),
    ]  # fmt: skip
