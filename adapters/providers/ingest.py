"""One provider request through verification, parsing and the core, with nothing lost.

The path every way in shares (`engage ingest` and the service's webhooks): verify the signature
over the raw bytes, parse, apply what mapped, and keep in quarantine whatever did not (a refused
request whole; a batch's bad elements with their reasons, the request kept once), in the same
transaction as what was applied. `retry` runs a held request again after a fix: what was
applied the first time is a duplicate now, so only what failed before can land.

Sizes are bounded (`engage_core.limits`, `docs/limits.md`): a body over its limit is refused
unread (`refuse_oversized`), a request whose signature did not verify is held as its first
bytes only, and an observation whose details are over their limit is quarantined alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime
from uuid import UUID

import attrs

from adapters.providers.base import (
    BodyPrefix,
    BodyTooLarge,
    InboundRequest,
    Parsed,
    ProviderAdapter,
    QuarantinedElement,
    Refused,
    SignatureRefused,
)
from engage_core import EngageApplication, InvalidInput, Observation, ObserveResult, Send
from engage_core.collector import bulk_allocation
from engage_core.counts import Counts
from engage_core.limits import DEFAULT_LIMITS, SETTINGS, Limits
from engage_core.observations import check_details_size
from engage_core.quarantine import HeldEntry, HeldRequest, Hold, Problem

__all__ = [
    "IngestReport",
    "NotRetryable",
    "UnverifiedRetryRefused",
    "held_request",
    "ingest",
    "over_limit_reason",
    "refuse_oversized",
    "retry",
]


@attrs.frozen
class IngestReport:
    """What one request did. `counts` (`engage_core.counts.Counts`, the vocabulary of every way
    in) counts the request's elements (reports): each is applied, a duplicate, late, a
    conflict, rejected (the whole request was refused) or quarantined (that element alone).
    `ignored` elements are not messaging events at all (a provider's account notices):
    acknowledged, listed, not applied."""

    counts: Counts = attrs.field(factory=Counts)
    ignored: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    refused: Refused | None = attrs.field(default=None, eq=False)
    held: UUID | None = None  # the quarantine entry keeping the request, when one does

    @property
    def received(self) -> int:
        return self.counts.received

    @property
    def applied(self) -> int:
        return self.counts.applied

    @property
    def duplicates(self) -> int:
        return self.counts.duplicates

    @property
    def late(self) -> int:
        return self.counts.late

    @property
    def conflicts(self) -> int:
        return self.counts.conflicts

    @property
    def rejected(self) -> int:
        return self.counts.rejected

    @property
    def quarantined(self) -> int:
        return self.counts.quarantined

    def as_dict(self) -> dict[str, object]:
        answer: dict[str, object] = dict(self.counts.as_dict())
        if self.ignored:
            answer["ignored"] = list(self.ignored)
        if self.errors:
            answer["errors"] = list(self.errors)
        if self.held is not None:
            answer["held"] = str(self.held)
        return answer


# A body this big carries a batch (about a hundred SendGrid events, the size from which the
# application applies a batch with fewer young collections); a single report is far smaller.
BULK_BODY_BYTES = 16 * 1024

# Credentials a client or proxy may add that no provider signs or sends: never stored.
_NOT_KEPT = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def _without_userinfo(url: str) -> str:
    """The URL without `user:password@` (Twilio does not sign it; we do not keep it)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0),
              default=len(rest))  # fmt: skip
    authority = rest[:end]
    if "@" not in authority:
        return url
    return f"{scheme}://{authority.rpartition('@')[2]}{rest[end:]}"


def held_request(
    adapter: ProviderAdapter, request: InboundRequest, *, whole: BodyPrefix | None = None
) -> HeldRequest:
    """The request as the quarantine keeps it: the body's bytes exactly as received (or, with
    `whole`, the first bytes of a body over its limit, with its size and digest), the headers
    (but credentials no provider sends), the URL (without user:password)."""
    held = HeldRequest(
        provider=adapter.name,
        body=request.body,
        headers=tuple((k, v) for k, v in request.headers.items() if k.lower() not in _NOT_KEPT),
        url=_without_userinfo(request.url),
        received_at=request.received_at,
    )
    if whole is None:
        return held
    return attrs.evolve(held, body=whole.prefix, body_size=whole.size, body_sha256=whole.sha256)


class UnverifiedRetryRefused(Exception):
    """A request held because its signature did not verify may only be applied unverified
    when an operator names it and says so (`allow_unauthenticated`)."""


class NotRetryable(Exception):
    """A held request of which only a prefix was kept (it came unsigned, or over its size
    limit): there is nothing whole to run again."""


def _within_limits(parsed: Parsed, limits: Limits) -> Parsed:
    """Observations whose details are over their limit move to the quarantined elements (the
    adapters do not know the limits; the core refuses the same in `parse_observation`)."""
    kept: list[Observation | Send] = []
    over: list[QuarantinedElement] = []
    for item in parsed.inputs:
        if isinstance(item, Observation):
            try:
                check_details_size(item, limits.details_bytes)
            except InvalidInput as error:
                where = f"message {item.provider_message_id!r} ({item.status})"
                over.append(QuarantinedElement(None, b"", f"{where}: {error}"))
                continue
        kept.append(item)
    if not over:
        return parsed
    return attrs.evolve(parsed, inputs=tuple(kept), quarantined=(*parsed.quarantined, *over))


def _problems(parsed: Parsed) -> tuple[Problem, ...]:
    return tuple(Problem(q.index, q.reason) for q in parsed.quarantined)


def _errors(problems: tuple[Problem, ...]) -> tuple[str, ...]:
    return tuple(
        p.reason if p.index is None else f"element {p.index}: {p.reason}" for p in problems
    )


def _check(adapter: ProviderAdapter, request: InboundRequest, verify: bool, now: datetime | None,
           limits: Limits) -> Parsed:  # fmt: skip
    size = len(request.body)
    if size > limits.provider_body_bytes:
        raise BodyTooLarge(over_limit_reason(size, limits))
    if verify:
        adapter.verify(request, now=now)
    return _within_limits(adapter.parse(request), limits)


def over_limit_reason(size: int, limits: Limits) -> str:
    """Why a body of `size` bytes is refused: over the provider body limit, naming it."""
    limit, setting = limits.provider_body_bytes, SETTINGS["provider_body_bytes"]
    return f"body over the limit of {limit} bytes ({setting}): {size} bytes"


def _report(
    parsed: Parsed, result: ObserveResult, problems: tuple[Problem, ...], held: UUID | None
) -> IngestReport:
    counts = attrs.evolve(
        result, received=parsed.received, rejected=0, quarantined=len(parsed.quarantined)
    )
    return IngestReport(
        counts,
        ignored=parsed.ignored,
        errors=_errors(problems),
        held=held,
    )


def _refusal(refusal: Refused, request: HeldRequest, limits: Limits) -> Hold:
    """What to hold of a request refused whole: unauthenticated when its signature failed or
    was never checked (a body over its limit), and then only the body's first bytes."""
    unauthenticated = isinstance(refusal, SignatureRefused | BodyTooLarge)
    if unauthenticated:
        keep = limits.unauthenticated_body_prefix_bytes
        if isinstance(refusal, BodyTooLarge):
            keep = min(keep, limits.provider_body_bytes)  # as `read_body` keeps it
        request = request.prefix(keep)
    return Hold(request, (Problem(None, refusal.reason),), True, unauthenticated)


def _refused_report(refusal: Refused, hold: Hold, held: UUID) -> IngestReport:
    return IngestReport(
        Counts(received=1, rejected=1), errors=_errors(hold.problems), refused=refusal, held=held
    )


def ingest(
    app: EngageApplication,
    adapter: ProviderAdapter,
    request: InboundRequest,
    *,
    verify: bool = True,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> IngestReport:
    """Verify (unless `verify` is False: replaying captured payloads), parse and apply one
    request; whatever is not applied is held in quarantine, in the same transaction. A body of
    a batch's size is parsed and applied with fewer young collections (`bulk_allocation`, as
    the application applies a big batch): what parsing allocates lives until the batch is
    saved, and at the collector's usual threshold it would be walked again and again."""
    bulk = len(request.body) >= BULK_BODY_BYTES
    with bulk_allocation() if bulk else nullcontext():
        keep = held_request(adapter, request)
        try:
            parsed = _check(adapter, request, verify, now, limits)
        except Refused as refusal:
            whole = _refusal(refusal, keep, limits)
            return _refused_report(refusal, whole, app.hold(whole).id)
        problems = _problems(parsed)
        hold = Hold(keep, problems, refused=False) if problems else None
        result = app.observe(parsed.inputs, hold=hold, count_sends=False)
        return _report(parsed, result, problems, keep.quarantine_id if hold else None)


def refuse_oversized(
    app: EngageApplication,
    adapter: ProviderAdapter,
    request: InboundRequest,
    whole: BodyPrefix,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> IngestReport:
    """Refuse a request whose body was over its limit and never read whole (`read_body`):
    `request.body` is ignored, `whole` says what came; held with its first bytes only."""
    refusal = BodyTooLarge(over_limit_reason(whole.size, limits))
    hold = _refusal(refusal, held_request(adapter, request, whole=whole), limits)
    return _refused_report(refusal, hold, app.hold(hold).id)


def retry(
    app: EngageApplication,
    adapters: Mapping[str, ProviderAdapter],
    entry: HeldEntry,
    *,
    verify: bool = True,
    allow_unauthenticated: bool = False,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> IngestReport:
    """Run a held request again (verified again, unless `verify` is False) and record the
    attempt on its entry; it is released when nothing of it fails any more. A request whose
    signature never verified is not run unverified unless `allow_unauthenticated`: whoever
    sent it is unknown (`UnverifiedRetryRefused`). A request kept as a prefix only cannot be
    run at all (`NotRetryable`)."""
    held = entry.request
    if held.truncated:
        raise NotRetryable(
            f"{entry.id}: only the first {len(held.body)} of its {held.body_size} bytes were "
            "kept, so it cannot be retried (the provider's own retries bring it whole)"
        )
    if not verify and entry.unauthenticated and not allow_unauthenticated:
        raise UnverifiedRetryRefused(
            f"{entry.id}: its signature never verified; name it to retry it unverified"
        )
    adapter = adapters.get(held.provider)
    if adapter is None:
        raise LookupError(f"no adapter for provider {held.provider!r}")
    request = InboundRequest(
        body=held.body, headers=held.headers, url=held.url, received_at=held.received_at
    )
    try:
        parsed = _check(adapter, request, verify, now, limits)
    except Refused as refusal:
        outcome = _refusal(refusal, held, limits)
        app.retry_held(entry.id, [], outcome, verified=verify)
        return _refused_report(refusal, outcome, entry.id)
    problems = _problems(parsed)
    result = app.retry_held(
        entry.id, parsed.inputs, Hold(held, problems, refused=False), verified=verify,
        count_sends=False,
    )  # fmt: skip
    return _report(parsed, result, problems, entry.id)
