"""`GET /api/subscriptions/{channel}/{key}` and `GET /api/can-send`: `engage subscription` and
`engage can-send` over HTTP, answered by the same functions (`adapters.queries`).

The arguments are read as the CLI reads them (a channel in any case, a group checked as the
core checks it, an ISO-8601 `as_of`), so a value `engage` refuses is refused here, as a 400
naming the parameter. An unknown contact is an answer (status null), never a 404: consent
nobody recorded is a state too. The subscription shows the contact's suppression too
(`suppression`, null when none; `adapters.web.api_suppression` has its own routes).
"""

from __future__ import annotations

import argparse
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.cli import arguments
from adapters.queries import can_send_answer, contact_of, subscription_answer
from adapters.web.api_common import (
    BadRequest,
    Query,
    answered_schema,
    any_text_route,
    guarded,
    json_response,
)
from adapters.web.runtime import Runtime
from engage_core.consent.contacts import ContactKey
from engage_core.errors import InvalidInput

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "consent_routes", "contact_from_path"]

_STATUS = {"type": ["string", "null"], "enum": ["SUBSCRIBED", "UNSUBSCRIBED",
                                                 "DID_NOT_SUBSCRIBE", None]}  # fmt: skip
_TIME = {"type": "string", "format": "date-time"}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Subscription": {
        "type": "object", "description": "A contact's consent as `engage subscription` prints it",
        "required": ["channel", "key", "status", "groups", "locked_by_user", "user_ids",
                     "suppression"],
        "properties": {
            "channel": {"type": "string", "enum": ["EMAIL", "SMS", "WHATSAPP"]},
            "key": {"type": "string"}, "status": _STATUS,
            "groups": {"type": "object", "additionalProperties": _STATUS},
            "locked_by_user": {"type": "boolean"},
            "user_ids": {"type": "array", "items": {"type": "string"}},
            "suppression": {"oneOf": [{"type": "null"},
                                      {"$ref": "#/components/schemas/Suppression"}]},
            "history": {"type": "array", "items": {
                "type": "object",
                "required": ["status", "previous_status", "outcome", "source", "source_id",
                             "effective_at", "recorded_at"],
                "properties": {
                    "status": _STATUS, "previous_status": _STATUS,
                    "outcome": {"type": "string",
                                "enum": ["applied", "unchanged", "stale", "refused"]},
                    "source": {"type": "string", "enum": ["csv", "api", "identify", "provider",
                                                          "keyword", "policy"]},
                    "source_id": {"type": "string"}, "effective_at": _TIME,
                    "recorded_at": _TIME, "user_id": {"type": "string"}, "claimed_at": _TIME}}},
        },
    },
    "SendPermission": {
        "type": "object", "required": ["allowed", "reason"],
        "properties": {"allowed": {"type": "boolean"}, "reason": {"type": "string"}},
    },
}  # fmt: skip



def _parameter(name: str, where: str, description: str, schema: dict[str, Any],
               required: bool = False) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema}  # fmt: skip


_STRING = {"type": "string"}
_NONEMPTY = {"type": "string", "minLength": 1}
_FLAG = {"type": "boolean", "description": "true or false (also 1 or 0)"}
_CHANNEL = "EMAIL, SMS or WHATSAPP (any case)"
_KEY = "the email address or phone number"

def _answered(schema: str, description: str) -> dict[str, Any]:
    return answered_schema(schema, description, "a bad parameter (named)")


OPENAPI_PATHS: dict[str, Any] = {
    "/api/subscriptions/{channel}/{key}": {"get": {
        "operationId": "subscription", "summary": "A contact's consent, groups, history",
        "security": [{"apiToken": []}],
        "parameters": [
            _parameter("channel", "path", _CHANNEL, _NONEMPTY),
            _parameter("key", "path", _KEY, _NONEMPTY),
            _parameter("group", "query", "a group to show (repeatable; email only)",
                       {"type": "array", "items": _STRING}),
            _parameter("as_of", "query", "ISO-8601: answer as it stood then", _STRING),
            _parameter("history", "query", "every update with its provenance", _FLAG)],
        "responses": _answered("Subscription", "answered (an unknown contact: status null)"),
    }},
    "/api/can-send": {"get": {
        "operationId": "can_send", "summary": "May a message go to this contact?",
        "security": [{"apiToken": []}],
        "parameters": [
            _parameter("channel", "query", _CHANNEL, _STRING, required=True),
            _parameter("key", "query", _KEY, _STRING, required=True),
            _parameter("group", "query", "the group the message is for (email only)", _STRING),
            _parameter("transactional", "query", "a transactional message", _FLAG)],
        "responses": _answered("SendPermission", "answered: a refusal is allowed false"),
    }},
}  # fmt: skip


def _contact(channel: str, key: str, groups: list[str]) -> ContactKey:
    for field, value in (("channel", channel), ("key", key)):
        try:
            arguments.text(value)
        except argparse.ArgumentTypeError as error:
            raise BadRequest(field, f"{field}: {error}") from None
    try:
        contact = contact_of(channel, key)
    except InvalidInput as error:  # the core names the channel `type`, the key `email`, …
        field = "channel" if error.field == "type" else "key"
        raise BadRequest(field, f"{field}: {error.problem}") from None
    try:
        contact_of(channel, key, groups)
    except InvalidInput as error:
        raise BadRequest("group", f"group: {error.problem}") from None
    return contact


def contact_from_path(channel: str, key: str) -> ContactKey:
    """A contact named by a route's path, refused as a 400 naming `channel` or `key` (the
    suppression routes read theirs so too)."""
    return _contact(channel, key, [])


def consent_routes(runtime: Runtime) -> list[Route]:
    async def subscription(request: Request) -> Response:
        """A contact's consent now (or as of a time), its groups, and with history every
        update that made it."""
        query = Query(request, "group", "as_of", "history")
        groups = query.many("group", arguments.group_name)
        as_of = query.one("as_of", arguments.timestamp)
        history = query.flag("history")
        contact = _contact(request.path_params["channel"], request.path_params["key"], groups)
        answer = await runtime.run(lambda: subscription_answer(
            runtime.application(), contact, groups=groups or None, as_of=as_of,
            history=history))  # fmt: skip
        return json_response(answer)

    async def can_send(request: Request) -> Response:
        """Whether a message may go to a contact now."""
        query = Query(request, "channel", "key", "group", "transactional")
        channel = query.required("channel", arguments.text)
        key = query.required("key", arguments.text)
        group = query.one("group", arguments.group_name)
        transactional = query.flag("transactional")
        contact = _contact(channel, key, [group] if group else [])
        answer = await runtime.run(lambda: can_send_answer(
            runtime.application(), contact, group=group, transactional=transactional))  # fmt: skip
        return json_response(answer)

    return [
        any_text_route("/api/subscriptions/{channel}/{key:path}",
                       guarded(runtime, subscription), "GET"),
        Route("/api/can-send", guarded(runtime, can_send), methods=["GET"]),
    ]  # fmt: skip
