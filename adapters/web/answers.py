"""What the service answers a provider, decided from what `ingest` did.

A provider retries whatever is not a 2xx, and keeps retrying a 5xx; so 200 means the request
is durably kept (applied, or held in quarantine: `ingest` returned), a 4xx says the request
itself is wrong and retrying it unchanged cannot help, and 503 is kept for storage failing,
when a retry is exactly what is wanted.
"""

from __future__ import annotations

from collections.abc import Collection

import orjson

from adapters.providers.base import Headers, media_type
from adapters.providers.ingest import IngestReport

__all__ = ["ACCEPTED_MEDIA_TYPES", "Answer", "json_answer", "refusal_answer", "report_answer"]

# (status, headers, body): what any web framework can send back
Answer = tuple[int, list[tuple[str, str]], bytes]

# What each provider posts: a refused request declared as anything else is answered 415.
ACCEPTED_MEDIA_TYPES: dict[str, frozenset[str]] = {
    "twilio": frozenset({"application/x-www-form-urlencoded", "application/json"}),
    "sendgrid": frozenset({"application/json"}),
    "meta": frozenset({"application/json"}),
}

_ERRORS = {
    400: "malformed body",
    401: "signature refused",
    403: "handshake refused",
    404: "not found",
    405: "method not allowed",
    413: "body too large",
    415: "unsupported media type",
    503: "storage unavailable",
}
_JSON = ("content-type", "application/json")


def json_answer(status: int, document: object, *headers: tuple[str, str]) -> Answer:
    return status, [_JSON, *headers], orjson.dumps(document)


def refusal_answer(
    status: int, reason: str, *headers: tuple[str, str], **more: object
) -> Answer:
    """`{"error": what, "reason": why, …more}`: `error` names the status, `reason` says what
    was wrong, for the provider's delivery log and the operator reading it."""
    document = {"error": _ERRORS.get(status, "refused"), "reason": reason, **more}
    return json_answer(status, document, *headers)


def report_answer(report: IngestReport, headers: Headers, accepted: Collection[str]) -> Answer:
    """200 with the report's counts once `ingest` returned having kept the request; else the
    refusal's status (401, 400, 413; 415 when the body is declared as a type the provider never
    posts), with the reason and the quarantine entry holding the request."""
    if report.refused is None:
        return json_answer(200, report.as_dict())
    status = report.refused.http_status
    if status in {400, 401} and media_type(headers) not in accepted:
        status = 415
    held = {"held": str(report.held)} if report.held is not None else {}
    return refusal_answer(status, report.refused.reason, **held)
