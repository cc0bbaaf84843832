"""One provider webhook request in, one answer out, whatever the web framework.

`handle_webhook` is what the Starlette routes call (in a worker thread) and what a Django or
Flask view calls as it is: it takes the request as plain values and answers `(status,
headers, body)`. It blocks on the store, so an async framework must call it off its event
loop. See docs/service.md for the views.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import BinaryIO
from urllib.parse import parse_qsl, urlsplit

from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError

from adapters.providers.base import BodyPrefix, Headers, InboundRequest, ProviderAdapter, read_body
from adapters.providers.ingest import IngestReport, ingest, refuse_oversized
from adapters.providers.meta import SubscriptionRefused, verify_subscription
from adapters.redaction import redact_line
from adapters.web.answers import ACCEPTED_MEDIA_TYPES, Answer, refusal_answer, report_answer
from adapters.web.settings import WebSettings
from adapters.web.urls import public_url
from engage_core import EngageApplication
from engage_core.limits import Limits
from engage_core.saving import ConcurrentWriteError

__all__ = ["STORAGE_ERRORS", "handle_webhook"]

# What storage failing looks like from here (the store unreachable, locked past its timeout,
# a disk full, writers conflicting through every retry): answered 503, so the provider retries.
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    PersistenceError, ConnectionPoolClosedError, ConcurrentWriteError, OSError,
)  # fmt: skip
RETRY_AFTER = ("retry-after", "30")

Body = bytes | BodyPrefix | BinaryIO


def handle_webhook(
    provider: str,
    method: str,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: Body,
    *,
    application: EngageApplication,
    settings: WebSettings,
) -> Answer:
    """Answer one request to `provider`'s webhook. `url` is the URL the provider called, as
    it called it (`settings.public_url`, when set, replaces its scheme and host); `body` is
    the raw body: bytes, a binary stream (read at most up to the limit, the rest only
    counted), or the `BodyPrefix` of one over the limit. A `GET` to Meta's webhook is its
    subscription handshake."""
    adapter = settings.adapters.get(provider)
    if adapter is None:
        return refusal_answer(404, f"no webhook for provider {provider!r}")
    url = public_url(url, settings)
    verb = method.upper()
    if provider == "meta" and verb == "GET":
        return _handshake(url, settings)
    if verb != "POST":
        allowed = "GET, POST" if provider == "meta" else "POST"
        return refusal_answer(405, f"{provider} webhooks are POSTed", ("allow", allowed))
    received = Headers(headers)
    try:
        report = _ingest(application, adapter, url, received, body, settings.limits)
    except STORAGE_ERRORS as error:
        reason = redact_line(f"{type(error).__name__}: {error}")[:500]
        return refusal_answer(503, reason, RETRY_AFTER)
    return report_answer(report, received, ACCEPTED_MEDIA_TYPES.get(provider, frozenset()))


def _ingest(
    application: EngageApplication,
    adapter: ProviderAdapter,
    url: str,
    headers: Headers,
    body: Body,
    limits: Limits,
) -> IngestReport:
    if not isinstance(body, bytes | BodyPrefix):
        body = read_body(body, limits.provider_body_bytes,
                         keep=limits.unauthenticated_body_prefix_bytes)  # fmt: skip
    if isinstance(body, BodyPrefix):  # over the limit: never held whole
        request = InboundRequest(body=body.prefix, headers=headers, url=url)
        return refuse_oversized(application, adapter, request, body, limits=limits)
    request = InboundRequest(body=body, headers=headers, url=url)
    return ingest(application, adapter, request, limits=limits)


def _handshake(url: str, settings: WebSettings) -> Answer:
    """Meta's GET: the `hub.challenge` echoed when the verify token matches, else 403."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    try:
        challenge = verify_subscription(query, settings.meta_verify_token)
    except SubscriptionRefused as refusal:
        return refusal_answer(403, refusal.reason)
    text = ("content-type", "text/plain; charset=utf-8")
    return 200, [text, ("x-content-type-options", "nosniff")], challenge.encode("utf-8")
