"""Every request counted, timed and logged as one JSON line, under a request id.

`Observability` is a plain ASGI middleware around the routes (a `BaseHTTPMiddleware` would
buffer streamed bodies). For each HTTP request it:
- takes the caller's `X-Request-Id` when it is sane (1 to 128 of `A-Z a-z 0-9 . _ : -`), else
  makes one, keeps it in `request.state.request_id` and echoes it in the answer's header, so
  a provider's delivery log, a proxy's log and ours can be joined;
- counts the request by route template (never the path as sent), method (one of a fixed few,
  else "other") and status, and times it (`ServiceMetrics.request`): every label value comes
  from a bounded set, so no client can add series;
- logs one access line (`engage.access`) and, when a route raised, one error line
  (`engage.error`, the exception's redacted text and trace) and answers 500 itself;
- counts and logs a client that went away mid-request (its body cut short) as 499, at info,
  with no error line, no trace and no answer: the client's doing, not a fault here.

What is logged is chosen, not dumped: the method, route, path (without its query: Meta's
handshake carries the verify token there), status, duration, sizes, peer and user agent.
Never the query, a header holding credentials, or a body; known secret values are masked in
whatever text is logged (`adapters.redaction`), and so is the token of a contact's page link
(`/preferences/…`, `/unsubscribe/…`, `/confirm/…`: whoever holds it may change that contact's
consent), routed or not.

`JsonLinesFormatter` writes any log record as one JSON object a line; `LOG_CONFIG` is the
logging setup `engage serve` gives uvicorn (its own lines as JSON too, its access log off).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import anyio
import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.redaction import redact_line, redact_values
from adapters.web.metrics import ServiceMetrics, method_label

__all__ = [
    "LOG_CONFIG", "REQUEST_ID_HEADER", "JsonLinesFormatter", "Observability", "current_request_id",
    "request_id",
]  # fmt: skip

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"  # the route label of a request no route answers
ACCESS = logging.getLogger("engage.access")
ERRORS = logging.getLogger("engage.error")
_LONGEST = 200  # characters of a path or user agent kept in a log line
# a page link's token, wherever the pages are mounted: logged as `[token]`
_PAGE_TOKEN = re.compile(r"/(preferences|unsubscribe|confirm)/[^/]+")
GONE = 499  # the status counted and logged for a client that went away before its answer
# what reading a body (or writing an answer) raises once the client has gone: its choice,
# nothing broken here, so no error line, no trace and no 500 to count
DISCONNECTS: tuple[type[Exception], ...] = (
    ClientDisconnect, anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream,
)  # fmt: skip
# the request being answered, for lines logged deep inside it (worker threads inherit it:
# anyio runs each thread's function in a copy of the caller's context)
_CURRENT_ID: ContextVar[str | None] = ContextVar("engage_request_id", default=None)


def request_id(given: str | None) -> str:
    """The caller's request id when it is sane, else a new one (32 hex digits)."""
    if given is not None and _SANE_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being answered here (None outside one), so a line logged by
    code that never sees the request (a storage failure turned into a 503) still joins it."""
    return _CURRENT_ID.get()


class Observability:
    """The middleware (module docstring); `routes` are the app's, to name each request's."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute], metrics: ServiceMetrics):
        self.app = app
        self.routes = routes
        self.metrics = metrics

    def _route(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:  # PARTIAL: the path, another method (405)
                return str(getattr(route, "path", UNMATCHED)) or "/"
        return UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        rid = request_id(headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = rid
        _CURRENT_ID.set(rid)
        route, began = self._route(scope), time.perf_counter()
        answered = {"status": 0, "bytes": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            elif message["type"] == "http.response.body":
                answered["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except DISCONNECTS:
            answered["status"] = GONE  # nobody is left to answer: nothing is sent
        except Exception as error:
            _log_error(error, rid, route, scope)
            if answered["status"]:
                raise  # the answer was under way: only cutting the connection is left
            await _internal_error(sending, rid)
        finally:
            seconds = time.perf_counter() - began
            status = answered["status"] or GONE  # the client went away before any answer
            self.metrics.request(route, scope["method"], status, seconds)
            _log_access(scope, headers, rid, route, status, seconds, answered["bytes"])


async def _internal_error(send: Send, rid: str) -> None:
    body = orjson.dumps({"error": "internal error", "reason": "an unforeseen error; it was "
                         "logged", "request_id": rid})  # fmt: skip
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def _shown(text: str | None) -> str | None:
    return None if text is None else redact_values(text[:_LONGEST])


def _log_access(
    scope: Scope, headers: Headers, rid: str, route: str, status: int, seconds: float,
    sent: int,
) -> None:  # fmt: skip
    client = scope.get("client")
    fields = {
        "event": "request", "request_id": rid, "method": method_label(scope["method"]),
        "route": route,
        "path": _shown(_PAGE_TOKEN.sub(r"/\1/[token]", scope.get("path", ""))), "status": status,
        "duration_ms": round(seconds * 1000, 3), "bytes_in": headers.get("content-length"),
        "bytes_out": sent, "client": client[0] if client else None,
        "user_agent": _shown(headers.get("user-agent")),
    }  # fmt: skip
    ACCESS.info("request", extra={"engage": fields})


def _log_error(error: Exception, rid: str, route: str, scope: Scope) -> None:
    fields = {"event": "error", "request_id": rid, "method": method_label(scope["method"]),
              "route": route, "error": type(error).__name__}  # fmt: skip
    ERRORS.error("%s: %s", type(error).__name__, error, exc_info=error,
                 extra={"engage": fields})  # fmt: skip


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's `engage` fields,
    and any exception's trace; known secrets masked in the text."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_line(record.getMessage())[:2000],
        }
        fields = getattr(record, "engage", None)
        if isinstance(fields, dict):
            document.update(fields)
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            document["exception"] = "\n".join(redact_line(line) for line in trace.splitlines())
        return orjson.dumps(document, default=str).decode()


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonLinesFormatter}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "engage": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}  # fmt: skip
