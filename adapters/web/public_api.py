"""The Public API's messaging-subscription operations, in Segment's shapes, so that code
written against Segment's Public API can point at Engage:

- `PUT /spaces/{space_id}/messaging-subscriptions` (Segment's
  `replaceMessagingSubscriptionsInSpaces`): `{"subscriptions": [{key, type, status?,
  groups?}]}` applied as `engage subscriptions set` applies it, answered per item in
  `{"data": {"successes": [...], "failures": [...]}}`;
- `POST /spaces/{space_id}/messaging-subscriptions/batch` (Segment's
  `batchQueryMessagingSubscriptionsForSpace`): what holds for each `{key, type, groups?}`.

Both take a Bearer token (`ENGAGE_API_TOKEN`, a list for rotation) and serve the one space
`ENGAGE_SPACE` names: another space is 404. An `Idempotency-Key` header names a PUT, so the
same request sent again (a retry after a timeout) is recognised and changes nothing; without
one, each PUT is a new request.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.consent_requests import (
    COUNTED_AS,
    RequestRefused,
    query_subscriptions,
    replace_subscriptions,
    subscription_items,
)
from adapters.web.answers import Answer, json_answer, refusal_answer
from adapters.web.auth import bearer_refusal
from adapters.web.handler import STORAGE_ERRORS, unavailable
from adapters.web.json_body import BodyRefused, read_json
from adapters.web.runtime import Runtime
from engage_core.limits import SETTINGS

__all__ = ["IDEMPOTENCY_HEADER", "OPENAPI_PATHS", "OPENAPI_SCHEMAS", "public_api_routes"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
_MEDIA_TYPES = frozenset({"application/json", "application/vnd.segment.v1alpha+json"})
_MOST_KEY = 255


class _Refused(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer[0])
        self.answer = answer


def _request_id(request: Request) -> str | None:
    """The caller's idempotency key: 1 to 255 printable ASCII characters."""
    given = request.headers.get(IDEMPOTENCY_HEADER)
    if given is None:
        return None
    key = given.strip()
    if not key or len(key) > _MOST_KEY or not (key.isascii() and key.isprintable()):
        raise _Refused(refusal_answer(
            400, f"{IDEMPOTENCY_HEADER}: 1 to {_MOST_KEY} printable ASCII characters"))  # fmt: skip
    return key


def _admit(runtime: Runtime, request: Request) -> None:
    """The token first (a refused request reads nothing more), then the space."""
    refusal = bearer_refusal(request.headers, runtime.settings.api_tokens)
    if refusal is not None:
        raise _Refused(refusal)
    if request.path_params.get("space_id") != runtime.settings.space:
        raise _Refused(refusal_answer(404, "no such space (this service serves ENGAGE_SPACE)"))


async def _items(runtime: Runtime, request: Request) -> list[Any]:
    """The body's `subscriptions`, when the body is accepted and within its limits."""
    limits = runtime.settings.limits
    try:
        items = subscription_items(await read_json(request, limits, _MEDIA_TYPES))
    except BodyRefused as refused:
        raise _Refused(refused.answer) from None
    except RequestRefused as error:
        raise _Refused(refusal_answer(400, str(error))) from None
    if len(items) > limits.api_items:
        raise _Refused(refusal_answer(
            413, f"{len(items)} items, over the limit of {limits.api_items} per request "
            f"({SETTINGS['api_items']}); nothing was applied"))  # fmt: skip
    return items


def _replace(runtime: Runtime, items: list[Any], request_id: str) -> dict[str, Any]:
    answer = replace_subscriptions(
        runtime.application(), items, request_id=request_id, now=datetime.now(UTC)
    )
    counts = dict.fromkeys(COUNTED_AS.values(), 0)
    for success in answer["successes"]:
        counts[COUNTED_AS[success["outcome"]]] += 1
    runtime.metrics.inputs("api", {**counts, "rejected": len(answer["failures"])})
    return answer


def _query(runtime: Runtime, items: list[Any]) -> dict[str, Any]:
    return query_subscriptions(runtime.application(), items)


async def _put(runtime: Runtime, request: Request) -> Answer:
    _admit(runtime, request)
    # without a key each PUT is a new request (as `engage subscriptions set` without one)
    request_id = _request_id(request) or f"request-{uuid.uuid4().hex}"
    items = await _items(runtime, request)
    return json_answer(200, {"data": await runtime.run(_replace, runtime, items, request_id)})


async def _batch(runtime: Runtime, request: Request) -> Answer:
    _admit(runtime, request)
    items = await _items(runtime, request)
    return json_answer(200, {"data": await runtime.run(_query, runtime, items)})


Operation = Callable[[Runtime, Request], Awaitable[Answer]]


def _endpoint(runtime: Runtime, operation: Operation) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            status, headers, body = await operation(runtime, request)
        except _Refused as refused:
            status, headers, body = refused.answer
        except STORAGE_ERRORS as error:
            status, headers, body = unavailable(error)
        return Response(body, status_code=status, headers=dict(headers))

    endpoint.__name__ = operation.__name__.lstrip("_")
    return endpoint


def public_api_routes(runtime: Runtime) -> list[Route]:
    path = "/spaces/{space_id}/messaging-subscriptions"
    return [
        Route(path, _endpoint(runtime, _put), methods=["PUT"]),
        Route(f"{path}/batch", _endpoint(runtime, _batch), methods=["POST"]),
    ]


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STATUS = {"type": "string", "enum": ["SUBSCRIBED", "UNSUBSCRIBED", "DID_NOT_SUBSCRIBE"]}
_ERRORS = {"type": "array", "items": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string", "description": "INVALID_EMAIL, INVALID_PHONE, "
                            "INVALID_SUBSCRIPTION_STATUS, INVALID_REQUEST, UNABLE_TO_SUBSCRIBE, "
                            "GLOBAL_STATE_NOT_SUBSCRIBED"},
                   "message": {"type": "string"}}}}  # fmt: skip
_STATE = {"status": _STATUS, "updatedAt": {"type": "string", "format": "date-time"}}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "SubscriptionItems": {
        "type": "object", "required": ["subscriptions"],
        "description": "Items, each judged on its own: one that cannot be read is a failure, "
                       "not a refusal of the request",
        "properties": {"subscriptions": {"type": "array", "items": {
            "type": "object", "required": ["key", "type"],
            "properties": {
                "key": {"type": "string", "description": "an email address or phone number"},
                "type": {"type": "string", "description": "EMAIL, SMS or WHATSAPP (any case)"},
                "status": {**_STATUS, "description": "the channel's new status (PUT)"},
                "groups": {"type": "array", "description": "PUT: {name, status} each; "
                           "batch query: group names (or {name}) to answer about",
                           "items": {"type": ["object", "string"]}},
            }}}},
    },
    "ReplaceSubscriptionsAnswer": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "object", "required": ["successes", "failures"],
                                "properties": {
            "successes": {"type": "array", "items": {
                "type": "object", "required": ["outcome"], "description": "the item, and",
                "properties": {"outcome": {"type": "string",
                                           "enum": ["applied", "unchanged", "stale",
                                                    "duplicate"]}}}},
            "failures": {"type": "array", "items": {
                "type": "object", "required": ["errors"], "description": "the item, and",
                "properties": {"errors": _ERRORS}}},
        }}},
    },
    "QuerySubscriptionsAnswer": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "object", "required": ["successes", "failures",
                                                               "errors"], "properties": {
            "successes": {"type": "array", "items": {
                "type": "object", "required": ["key", "type", "groups"],
                "description": "status and updatedAt are absent when nothing was ever set",
                "properties": {"key": {"type": "string"}, "type": {"type": "string"}, **_STATE,
                               "groups": {"type": "array", "items": {
                                   "type": "object", "required": ["name", "id", "status"],
                                   "properties": {"name": {"type": "string"},
                                                  "id": {"type": "string"}, **_STATE}}}}}},
            "failures": {"type": "array", "items": {
                "type": "object", "required": ["key", "type", "errors"],
                "properties": {"key": {"type": "string"}, "type": {"type": "string"},
                               "errors": _ERRORS}}},
            "errors": _ERRORS,
        }}},
    },
}  # fmt: skip

_SPACE = {"name": "space_id", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "the space this service serves (ENGAGE_SPACE)"}  # fmt: skip
_ITEMS = {"schema": _ref("SubscriptionItems")}
_BODY = {"required": True, "content": {media: _ITEMS for media in sorted(_MEDIA_TYPES)}}


def _operation(operation_id: str, summary: str, answer: str, **more: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id, "summary": summary, "security": [{"apiToken": []}],
        "parameters": [_SPACE, *more.pop("parameters", [])], "requestBody": _BODY,
        "responses": {
            "200": {"description": "each item answered: successes and failures",
                    "content": {"application/json": {"schema": _ref(answer)}}},
            "400": _error("not JSON, not gzip, or not {\"subscriptions\": [...]}" + more.pop(
                "bad", "")),
            "401": _error("no token, or not one accepted"),
            "404": _error("not the space this service serves"),
            "413": _error("over the body or item limit: nothing applied"),
            "415": _error("not application/json (or Segment's v1alpha type), or an encoding "
                          "other than gzip"),
            "503": _error("storage unavailable: retry"),
        },
    }  # fmt: skip


OPENAPI_PATHS: dict[str, Any] = {
    "/spaces/{space_id}/messaging-subscriptions": {"put": _operation(
        "replaceMessagingSubscriptionsInSpaces", "Change subscriptions, item by item",
        "ReplaceSubscriptionsAnswer", bad=", or a malformed Idempotency-Key",
        parameters=[{"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": _MOST_KEY},
                     "description": "names the request: sent again, it changes nothing"}])},
    "/spaces/{space_id}/messaging-subscriptions/batch": {"post": _operation(
        "batchQueryMessagingSubscriptionsForSpace", "What holds for each contact",
        "QuerySubscriptionsAnswer")},
}  # fmt: skip
