"""What every `/api/` route shares: the Bearer check before anything else, query parameters
read as strictly as `engage` reads its options, and one way each failure becomes an answer.

A route is written as a handler that may raise `BadRequest` (a 4xx naming the field) or let a
storage error through; `guarded` turns those into JSON answers, so no bad input can surface as
a 5xx and a store that fails is a 503 to retry, never a traceback. The argument types are the
CLI's own (`adapters.cli.arguments`): a value `engage` refuses, the API refuses with the same
reason.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.cli import arguments
from adapters.web.answers import Answer, json_answer
from adapters.web.auth import bearer_refusal
from adapters.web.handler import STORAGE_ERRORS, unavailable
from adapters.web.runtime import Runtime
from engage_core.errors import InvalidInput

__all__ = [
    "BadRequest",
    "Query",
    "any_text_route",
    "error_response",
    "guarded",
    "json_response",
    "respond",
]

_T = TypeVar("_T")
Handler = Callable[[Request], Awaitable[Response]]

# storage failing, as the webhooks see it, and SQLite's own errors from the views' file
_UNAVAILABLE: tuple[type[Exception], ...] = (*STORAGE_ERRORS, sqlite3.Error)
_ERRORS = {
    400: "bad request", 404: "not found", 413: "body too large", 415: "unsupported media type",
    422: "stopped part-way",
}  # fmt: skip
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


class BadRequest(Exception):
    """The request cannot be answered as asked: `status` (400 unless said), the field or
    parameter at fault, and why (the reason names the field too)."""

    def __init__(self, field: str, reason: str, status: int = 400, **more: object) -> None:
        super().__init__(reason)
        self.field, self.reason, self.status, self.more = field, reason, status, more
        # answer with `Connection: close` (set by whoever refuses a body cut short): the rest
        # of the body is never read, and a connection kept open would be drained of it all
        self.close = False

    @classmethod
    def of(cls, error: InvalidInput) -> BadRequest:
        """The core's refusal of an input, which names its field already."""
        return cls(error.field, str(error))


def error_schema(description: str) -> dict[str, Any]:
    """An OpenAPI response answered with this API's `{"error", "reason", "field"}` body."""
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def answered_schema(schema: str, description: str, bad: str) -> dict[str, Any]:
    """The OpenAPI responses of a JSON route behind the token: 200 with `schema`, 400 (`bad`),
    401 and 503."""
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {
        "200": {"description": description, "content": content},
        "400": error_schema(bad), "401": error_schema("no accepted Bearer token"),
        "503": error_schema("storage unavailable: retry"),
    }  # fmt: skip


def respond(answer: Answer) -> Response:
    status, headers, body = answer
    return Response(body, status_code=status, headers=dict(headers))


def json_response(document: object, status: int = 200) -> Response:
    return respond(json_answer(status, document))


def error_response(error: BadRequest) -> Response:
    """`{"error": what, "reason": why, "field": which, …more}`."""
    document = {"error": _ERRORS.get(error.status, "refused"), "reason": error.reason,
                "field": error.field, **error.more}  # fmt: skip
    response = json_response(document, error.status)
    if error.close:
        response.headers["connection"] = "close"
    return response


def guarded(runtime: Runtime, handler: Handler) -> Handler:
    """`handler` behind the Bearer check (a refused request reads and changes nothing), with
    `BadRequest` answered as its 4xx and storage failing as 503 with Retry-After."""

    async def route(request: Request) -> Response:
        refusal = bearer_refusal(request.headers, runtime.settings.api_tokens)
        if refusal is not None:
            return respond(refusal)
        try:
            return await handler(request)
        except BadRequest as error:
            return error_response(error)
        except _UNAVAILABLE as error:
            return respond(unavailable(error))

    route.__name__ = handler.__name__
    route.__doc__ = handler.__doc__
    return route


def any_text_route(path: str, endpoint: Handler, method: str) -> Route:
    """A route whose `{name:path}` parameters match any characters, line breaks too (the
    convertor's own pattern stops at one, which would leave such a request to Starlette's
    plain-text 404 instead of this API's JSON 400 or 404)."""
    route = Route(path, endpoint, methods=[method])
    route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)
    return route


class Query:
    """A request's query parameters: only the `known` names, each at most once unless read
    with `many`; each value checked by a CLI argument type."""

    def __init__(self, request: Request, *known: str) -> None:
        self._params = request.query_params
        for name in self._params:
            if name not in known:
                listed = ", ".join(known) or "none"
                raise BadRequest(name, f"unknown parameter {name[:80]!r} (known: {listed})")

    def many(self, name: str, parse: Callable[[str], _T]) -> list[_T]:
        return [_parsed(name, value, parse) for value in self._params.getlist(name)]

    def one(self, name: str, parse: Callable[[str], _T], *, required: bool = False) -> _T | None:
        values = self._params.getlist(name)
        if len(values) > 1:
            raise BadRequest(name, f"{name}: given {len(values)} times; give it once")
        if not values:
            if required:
                raise BadRequest(name, f"{name}: required")
            return None
        return _parsed(name, values[0], parse)

    def required(self, name: str, parse: Callable[[str], _T]) -> _T:
        value = self.one(name, parse, required=True)
        assert value is not None
        return value

    def flag(self, name: str) -> bool:
        """A boolean: `true` or `1`, `false` or `0` (any case); absent is false."""
        value = self.one(name, arguments.text)
        if value is None or value.strip().lower() in _FALSE:
            return False
        if value.strip().lower() in _TRUE:
            return True
        raise BadRequest(name, f"{name}: true or false (got {value[:80]!r})")


def _parsed(name: str, value: str, parse: Callable[[str], _T]) -> _T:
    try:
        return parse(value)
    except argparse.ArgumentTypeError as error:
        raise BadRequest(name, f"{name}: {error}") from None
    except InvalidInput as error:
        raise BadRequest(name, f"{name}: {error.problem}") from None
