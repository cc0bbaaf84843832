"""One provider request through verification, parsing and the core, with nothing lost.

The path every way in shares (`engage ingest` now, the web service later): verify the signature
over the raw bytes, parse, apply what mapped, and keep in quarantine whatever did not (a refused
request whole; a batch's bad elements with their reasons, the request kept once), in the same
transaction as what was applied. `retry` runs a held request again after a fix: what was
applied the first time is a duplicate now, so only what failed before can land.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

import attrs

from adapters.providers.base import (
    InboundRequest,
    Parsed,
    ProviderAdapter,
    Refused,
)
from engage_core import EngageApplication, ObserveResult
from engage_core.quarantine import HeldEntry, HeldRequest, Hold, Problem


@attrs.frozen
class IngestReport:
    """What one request did. `received` counts the request's elements (reports); each is
    applied, a duplicate, late, a conflict, rejected (the whole request was refused) or
    quarantined (that element alone). `ignored` elements are not messaging events at all (a
    provider's account notices): acknowledged, listed, not applied."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    late: int = 0
    conflicts: int = 0
    rejected: int = 0
    quarantined: int = 0
    ignored: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    refused: Refused | None = attrs.field(default=None, eq=False)
    held: UUID | None = None  # the quarantine entry keeping the request, when one does

    def as_dict(self) -> dict[str, object]:
        counts: dict[str, object] = {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "late": self.late,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "quarantined": self.quarantined,
        }
        if self.ignored:
            counts["ignored"] = list(self.ignored)
        if self.errors:
            counts["errors"] = list(self.errors)
        if self.held is not None:
            counts["held"] = str(self.held)
        return counts


def held_request(adapter: ProviderAdapter, request: InboundRequest) -> HeldRequest:
    """The request as the quarantine keeps it: bytes, headers and URL exactly as received."""
    return HeldRequest(
        provider=adapter.name,
        body=request.body,
        headers=tuple(request.headers.items()),
        url=request.url,
        received_at=request.received_at,
    )


def _problems(parsed: Parsed) -> tuple[Problem, ...]:
    return tuple(Problem(q.index, q.reason) for q in parsed.quarantined)


def _errors(problems: tuple[Problem, ...]) -> tuple[str, ...]:
    return tuple(
        p.reason if p.index is None else f"element {p.index}: {p.reason}" for p in problems
    )


def _check(adapter: ProviderAdapter, request: InboundRequest, verify: bool, now: datetime | None
           ) -> Parsed:  # fmt: skip
    if verify:
        adapter.verify(request, now=now)
    return adapter.parse(request)


def _report(
    parsed: Parsed, result: ObserveResult, problems: tuple[Problem, ...], held: UUID | None
) -> IngestReport:
    return IngestReport(
        received=parsed.received,
        applied=result.applied,
        duplicates=result.duplicates,
        late=result.late,
        conflicts=result.conflicts,
        quarantined=len(parsed.quarantined),
        ignored=tuple(getattr(parsed, "ignored", ())),
        errors=_errors(problems),
        held=held,
    )


def ingest(
    app: EngageApplication,
    adapter: ProviderAdapter,
    request: InboundRequest,
    *,
    verify: bool = True,
    now: datetime | None = None,
) -> IngestReport:
    """Verify (unless `verify` is False: replaying captured payloads), parse and apply one
    request; whatever is not applied is held in quarantine, in the same transaction."""
    keep = held_request(adapter, request)
    try:
        parsed = _check(adapter, request, verify, now)
    except Refused as refusal:
        refusal_problems = (Problem(None, refusal.reason),)
        entry = app.hold(Hold(keep, refusal_problems, refused=True))
        return IngestReport(
            received=1, rejected=1, errors=_errors(refusal_problems), refused=refusal,
            held=entry.id,
        )  # fmt: skip
    problems = _problems(parsed)
    hold = Hold(keep, problems, refused=False) if problems else None
    result = app.observe(parsed.inputs, hold=hold, count_sends=False)
    return _report(parsed, result, problems, keep.quarantine_id if hold else None)


def retry(
    app: EngageApplication,
    adapters: Mapping[str, ProviderAdapter],
    entry: HeldEntry,
    *,
    verify: bool = True,
    now: datetime | None = None,
) -> IngestReport:
    """Run a held request again (verified again, unless `verify` is False) and record the
    attempt on its entry; it is released when nothing of it fails any more."""
    held = entry.request
    adapter = adapters.get(held.provider)
    if adapter is None:
        raise LookupError(f"no adapter for provider {held.provider!r}")
    request = InboundRequest(
        body=held.body, headers=held.headers, url=held.url, received_at=held.received_at
    )
    try:
        parsed = _check(adapter, request, verify, now)
    except Refused as refusal:
        refusal_problems = (Problem(None, refusal.reason),)
        app.retry_held(entry.id, [], refusal_problems, refused=True, verified=verify)
        return IngestReport(
            received=1, rejected=1, errors=_errors(refusal_problems), refused=refusal,
            held=entry.id,
        )  # fmt: skip
    problems = _problems(parsed)
    result = app.retry_held(
        entry.id, parsed.inputs, problems, refused=False, verified=verify, count_sends=False
    )
    return _report(parsed, result, problems, entry.id)
