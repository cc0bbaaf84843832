"""`POST /api/messages` (record a send), `GET /api/messages/{message_id}` and
`GET /api/messages?channel=&provider_message_id=[&provider=]`: `engage message` over HTTP.

A send is the core's `Send`, the sender's own record of a message (`record_send`), read from a
JSON object of its fields; recording the same send again changes nothing (a duplicate). Every
answer is the message as `engage message` prints it (`adapters.queries`).
"""

from __future__ import annotations

import argparse
from typing import Any
from uuid import UUID

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.cli import arguments
from adapters.providers.base import BodyPrefix
from adapters.queries import NotFound, message_by_id, message_by_provider_id, record_send
from adapters.web.api_common import (
    BadRequest,
    Query,
    any_text_route,
    error_schema,
    guarded,
    json_response,
)
from adapters.web.body import declared_length, read_bounded
from adapters.web.runtime import Runtime
from engage_core import Channel, Send
from engage_core.errors import InvalidInput
from engage_core.limits import SETTINGS

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "message_routes", "read_json_object"]

_TEXT = {"type": "string"}
_MAYBE_TEXT = {"type": ["string", "null"]}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_SEND_FIELDS = ("to", "user_id", "campaign_id", "campaign_name", "journey_id", "template_id",
                "email_subject")  # fmt: skip

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Message": {
        "type": "object", "description": "A message as `engage message` prints it",
        "required": ["message_id", "channel", "provider", "provider_message_id", "status",
                     "version", "send", "engagement", "history"],
        "properties": {
            "message_id": {"type": "string", "format": "uuid"},
            "channel": {"type": "string", "enum": ["sms", "email", "whatsapp"]},
            "provider": _TEXT, "provider_message_id": _TEXT, "status": _MAYBE_TEXT,
            "version": {"type": "integer", "minimum": 1},
            "send": {"oneOf": [{"type": "null"}, {
                "type": "object", "required": [*_SEND_FIELDS, "sent_at"],
                "properties": {**dict.fromkeys(_SEND_FIELDS, _MAYBE_TEXT),
                               "sent_at": _MAYBE_TIME}}]},
            "engagement": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["count", "first_at", "last_at"],
                "properties": {"count": {"type": "integer", "minimum": 0},
                               "first_at": _MAYBE_TIME, "last_at": _MAYBE_TIME}}},
            "history": {"type": "array", "items": {
                "type": "object",
                "required": ["kind", "status", "occurred_at", "recorded_at", "event_id",
                             "details"],
                "properties": {
                    "kind": {"type": "string", "enum": ["applied", "inferred", "late",
                                                       "conflict", "duplicate"]},
                    "status": _TEXT, "occurred_at": _MAYBE_TIME, "recorded_at": _MAYBE_TIME,
                    "event_id": _MAYBE_TEXT, "details": {"type": "object"},
                    "claimed_at": {"type": "string", "format": "date-time"}}}},
        },
    },
    "Send": {
        "type": "object", "description": "The sender's record of a message (`record_send`)",
        "required": ["channel", "provider", "provider_message_id"],
        "properties": {
            "channel": {"type": "string", "description": "sms, email or whatsapp (any case)"},
            "provider": _TEXT, "provider_message_id": _TEXT,
            **dict.fromkeys(_SEND_FIELDS, _MAYBE_TEXT),
            "sent_at": {"type": ["string", "number", "null"],
                        "description": "ISO-8601 (UTC when no zone) or Unix seconds"},
        },
        "additionalProperties": False,
    },
}  # fmt: skip


# what became of a recorded send, as the counts name it and as the answer says it
_OUTCOMES = {"applied": "applied", "unchanged": "unchanged", "duplicates": "duplicate",
             "late": "late", "conflicts": "conflict", "rejected": "rejected"}  # fmt: skip


def _outcome(counts: dict[str, Any]) -> str:
    """The one send's outcome: `late` is a different record for a message whose send is
    already recorded (kept in its history, not applied), so a caller knows it did not take."""
    return next((word for name, word in _OUTCOMES.items() if counts.get(name)), "applied")



_MESSAGE = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}}
_RECORDED = {"allOf": [{"$ref": "#/components/schemas/Message"}, {
    "type": "object", "required": ["outcome"],
    "properties": {"outcome": {"type": "string", "enum": sorted(set(_OUTCOMES.values()))}}}]}
_DENIED = {"401": error_schema("no accepted Bearer token"),
           "503": error_schema("storage unavailable: retry")}  # fmt: skip
_FOUND = {
    "200": {"description": "the message", **_MESSAGE},
    "400": error_schema("a bad parameter (named)"),
    "404": error_schema("no such message"),
    **_DENIED,
}


def _query(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


OPENAPI_PATHS: dict[str, Any] = {
    "/api/messages": {
        "post": {
            "operationId": "record_send", "summary": "Record a send (the sender's record)",
            "security": [{"apiToken": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Send"}}}},
            "responses": {"200": {"description": "the message now, and what became of this "
                                  "record (`outcome`: a repeat is a duplicate and changes nothing)",
                                  "content": {"application/json": {"schema": _RECORDED}}},
                          "400": error_schema("a bad field (named)"),
                          "413": error_schema("body over ENGAGE_MAX_API_REQUEST_BYTES"),
                          "415": error_schema("not application/json"), **_DENIED},
        },
        "get": {
            "operationId": "message", "summary": "Find a message by the provider's id",
            "security": [{"apiToken": []}],
            "parameters": [
                _query("channel", "sms, email or whatsapp", required=True),
                _query("provider_message_id", "the provider's id", required=True),
                _query("provider", "default: the channel's usual providers")],
            "responses": _FOUND,
        },
    },
    "/api/messages/{message_id}": {"get": {
        "operationId": "message_by_id", "summary": "A message by Engage's id",
        "security": [{"apiToken": []}],
        "parameters": [{"name": "message_id", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1}, "description": "a UUID"}],
        "responses": _FOUND,
    }},
}  # fmt: skip


async def read_json_object(request: Request, limit: int, setting: str) -> dict[str, Any]:
    """The body as a JSON object, read as it streams in and never past `limit` bytes held;
    415 unless declared JSON, 413 over the limit, 400 unless an object."""
    declared = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if declared != "application/json":
        raise BadRequest("content-type", "content-type: expected application/json", 415)
    # a client overshooting by up to the limit again still reads its 413; past that, cut
    read = await read_bounded(request.stream(), limit, keep=0, slack=limit,
                              declared=declared_length(request.headers), peek=False)  # fmt: skip
    body = read.body
    if isinstance(body, BodyPrefix):  # refused unread past the limit, never read without end
        refused = BadRequest("body", f"body: {body.size} bytes, over the limit of {limit} "
                             f"({setting})", 413)  # fmt: skip
        refused.close = read.cut
        raise refused
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest("body", f"body: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise BadRequest("body", f"body: a JSON object (got {type(document).__name__})")
    return document


def _send(document: dict[str, Any]) -> Send:
    fields = dict(document)
    try:
        return Send.create(fields.pop("channel", None), fields.pop("provider", None),
                           fields.pop("provider_message_id", None), **fields)  # fmt: skip
    except InvalidInput as error:
        raise BadRequest.of(error) from None


def _message_id(text: str) -> UUID:
    try:
        return arguments.uuid(text)
    except argparse.ArgumentTypeError:
        raise BadRequest("message_id", f"message_id: {text[:80]!r} is not a UUID") from None


def _channel(text: str) -> Channel:
    try:
        return Channel.parse(arguments.text(text))
    except ValueError as error:
        raise InvalidInput("channel", str(error)) from None


def message_routes(runtime: Runtime) -> list[Route]:
    limits = runtime.settings.limits

    async def post_message(request: Request) -> Response:
        """Record a send; answer the message it belongs to now."""
        send = _send(await read_json_object(
            request, limits.api_request_bytes, SETTINGS["api_request_bytes"]))  # fmt: skip
        result, answer = await runtime.run(lambda: record_send(runtime.application(), send))
        counts = result.as_dict()
        runtime.metrics.inputs("api", counts)
        return json_response({**answer, "outcome": _outcome(counts)})

    async def find_message(request: Request) -> Response:
        """A message by the channel and the provider's id (and provider, when given)."""
        query = Query(request, "channel", "provider_message_id", "provider")
        channel = query.required("channel", _channel)
        provider_message_id = query.required("provider_message_id", arguments.name)
        provider = query.one("provider", arguments.name)
        try:
            answer = await runtime.run(lambda: message_by_provider_id(
                runtime.application(), channel, provider_message_id, provider))  # fmt: skip
        except NotFound as error:
            raise BadRequest("provider_message_id", str(error), 404) from None
        return json_response(answer)

    async def message_by_uuid(request: Request) -> Response:
        """A message by Engage's own id."""
        Query(request)
        wanted = _message_id(request.path_params["message_id"])
        try:
            answer = await runtime.run(lambda: message_by_id(runtime.application(), wanted))
        except NotFound as error:
            raise BadRequest("message_id", str(error), 404) from None
        return json_response(answer)

    return [
        Route("/api/messages", guarded(runtime, post_message), methods=["POST"]),
        Route("/api/messages", guarded(runtime, find_message), methods=["GET"]),
        any_text_route("/api/messages/{message_id:path}", guarded(runtime, message_by_uuid), "GET"),
    ]
