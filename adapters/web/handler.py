"""One provider webhook request in, one answer out, whatever the web framework.

`handle_webhook` is what the Starlette routes call (in a worker thread) and what a Django or
Flask view calls as it is: it takes the request as plain values and answers `(status,
headers, body)`. It blocks on the store, so an async framework must call it off its event
loop. See docs/service.md for the views.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import BinaryIO
from urllib.parse import parse_qsl, urlsplit

import attrs
from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError

from adapters.providers.base import (
    BodyPrefix,
    BodyTooLarge,
    Headers,
    InboundRequest,
    ProviderAdapter,
    Refused,
    read_body,
)
from adapters.providers.ingest import IngestReport, ingest, over_limit_reason, refuse_oversized
from adapters.providers.meta import SubscriptionRefused, verify_subscription
from adapters.redaction import redact_line
from adapters.web.answers import ACCEPTED_MEDIA_TYPES, Answer, refusal_answer, report_answer
from adapters.web.observability import current_request_id
from adapters.web.settings import WebSettings
from adapters.web.urls import public_url
from engage_core import EngageApplication
from engage_core.counts import Counts
from engage_core.limits import Limits
from engage_core.saving import ConcurrentWriteError

__all__ = [
    "STORAGE_ERRORS", "UNAVAILABLE_REASON", "MayHold", "answer_webhook", "handle_webhook",
    "log_unavailable", "unavailable", "unheld",
]  # fmt: skip

# What storage failing looks like from here (the store unreachable, locked past its timeout,
# a disk full, writers conflicting through every retry): answered 503, so the provider retries.
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    PersistenceError, ConnectionPoolClosedError, ConcurrentWriteError, OSError,
)  # fmt: skip
RETRY_AFTER = ("retry-after", "30")
# what a caller is told when storage fails: the exception's own text can name hosts, users,
# paths or SQL, and these answers go to anyone, signed or not; the detail goes to the log
UNAVAILABLE_REASON = "storage unavailable; retry"
ERRORS = logging.getLogger("engage.error")

Body = bytes | BodyPrefix | BinaryIO
MayHold = Callable[[], bool]  # asked once per refusal about to be held


def handle_webhook(
    provider: str,
    method: str,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: Body,
    *,
    application: EngageApplication,
    settings: WebSettings,
    may_hold: MayHold | None = None,
) -> Answer:
    """Answer one request to `provider`'s webhook. `url` is the URL the provider called, as
    it called it (`settings.public_url`, when set, replaces its scheme and host); `body` is
    the raw body: bytes, a binary stream (read at most up to the limit, the rest only
    counted), or the `BodyPrefix` of one over the limit. A `GET` to Meta's webhook is its
    subscription handshake. `may_hold`, when given, is asked before a refused request (its
    signature unverified, or its body over the limit) is held: False refuses it unheld."""
    answer, _ = answer_webhook(provider, method, url, headers, body, application=application,
                               settings=settings, may_hold=may_hold)  # fmt: skip
    return answer


def answer_webhook(
    provider: str,
    method: str,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: Body,
    *,
    application: EngageApplication,
    settings: WebSettings,
    may_hold: MayHold | None = None,
) -> tuple[Answer, IngestReport | None]:
    """`handle_webhook`'s answer and the report it was made from (None when nothing was
    ingested: a handshake, a wrong method, storage failing), for the caller's metrics."""
    adapter = settings.adapters.get(provider)
    if adapter is None:
        return refusal_answer(404, f"no webhook for provider {provider!r}"), None
    url = public_url(url, settings)
    verb = method.upper()
    if provider == "meta" and verb == "GET":
        return _handshake(url, settings), None
    if verb != "POST":
        allowed = "GET, POST" if provider == "meta" else "POST"
        return refusal_answer(405, f"{provider} webhooks are POSTed", ("allow", allowed)), None
    received = Headers(headers)
    try:
        report = _ingest(application, adapter, InboundRequest(b"", received, url=url), body,
                         settings.limits, may_hold)  # fmt: skip
    except STORAGE_ERRORS as error:
        return unavailable(error), None
    accepted = ACCEPTED_MEDIA_TYPES.get(provider, frozenset())
    return report_answer(report, received, accepted), report


def _ingest(
    application: EngageApplication,
    adapter: ProviderAdapter,
    request: InboundRequest,
    body: Body,
    limits: Limits,
    may_hold: MayHold | None,
) -> IngestReport:
    """`request` (its body still to come from `body`) ingested; with `may_hold`, a refusal is
    known before anything is held (the signature checked here first), and held only if
    `may_hold()` says so."""
    if isinstance(body, bytes) and len(body) > limits.provider_body_bytes:
        body = io.BytesIO(body)  # kept as a prefix, as a streamed body over the limit is
    if not isinstance(body, bytes | BodyPrefix):
        body = read_body(body, limits.provider_body_bytes,
                         keep=limits.unauthenticated_body_prefix_bytes)  # fmt: skip
    if isinstance(body, BodyPrefix):  # over the limit: never held whole
        request = attrs.evolve(request, body=body.prefix)
        if may_hold is not None and not may_hold():
            return unheld(BodyTooLarge(over_limit_reason(body.size, limits)))
        return refuse_oversized(application, adapter, request, body, limits=limits)
    request = attrs.evolve(request, body=body)
    if may_hold is None:
        return ingest(application, adapter, request, limits=limits)
    try:
        adapter.verify(request)
    except Refused as refusal:
        if not may_hold():
            return unheld(refusal)
        return ingest(application, adapter, request, limits=limits)  # refused again, and held
    return ingest(application, adapter, request, limits=limits, verify=False)  # verified above


def unavailable(error: BaseException) -> Answer:
    """503 with `Retry-After` and a fixed reason, for storage failing; the failure itself is
    logged (`log_unavailable`), never shown to the caller."""
    log_unavailable(error)
    return refusal_answer(503, UNAVAILABLE_REASON, RETRY_AFTER)


def log_unavailable(error: BaseException) -> None:
    """One `engage.error` line for the operator: the failure's masked text, with the id of
    the request it failed."""
    fields = {"event": "storage_unavailable", "request_id": current_request_id(),
              "error": type(error).__name__}  # fmt: skip
    ERRORS.warning("%s", redact_line(f"{type(error).__name__}: {error}")[:500],
                   extra={"engage": fields})  # fmt: skip


def unheld(refusal: Refused) -> IngestReport:
    """The report of a request refused and, over its source's allowance, not held."""
    return IngestReport(Counts(received=1, rejected=1), errors=(refusal.reason,), refused=refusal)


def _handshake(url: str, settings: WebSettings) -> Answer:
    """Meta's GET: the `hub.challenge` echoed when the verify token matches, else 403."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    try:
        challenge = verify_subscription(query, settings.meta_verify_token)
    except SubscriptionRefused as refusal:
        return refusal_answer(403, refusal.reason)
    text = ("content-type", "text/plain; charset=utf-8")
    return 200, [text, ("x-content-type-options", "nosniff")], challenge.encode("utf-8")
