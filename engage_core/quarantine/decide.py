"""Pure decisions of the quarantine: the event that holds a request, or records its retry."""

from __future__ import annotations

from datetime import datetime

from engage_core.quarantine.events import (
    QuarantineEvent,
    RequestHeldAgain,
    RequestQuarantined,
    RequestRetried,
)
from engage_core.quarantine.request import Hold
from engage_core.quarantine.state import HeldEntry


def decide_hold(entry: HeldEntry | None, hold: Hold, *, recorded_at: datetime) -> QuarantineEvent:
    """The event holding a request (first time, or again)."""
    request = hold.request
    if entry is None:
        return RequestQuarantined(
            originator_id=request.quarantine_id, originator_version=1, recorded_at=recorded_at,
            request=request, refused=hold.refused, problems=hold.problems,
            unauthenticated=hold.unauthenticated,
        )  # fmt: skip
    # a prefix kept before is completed by an arrival that brought the whole body
    whole = entry.request.truncated and not request.truncated
    return RequestHeldAgain(
        originator_id=entry.id, originator_version=entry.version + 1, recorded_at=recorded_at,
        received_at=request.received_at, headers=request.headers, refused=hold.refused,
        problems=hold.problems, unauthenticated=hold.unauthenticated,
        body=request.body if whole else None,
    )  # fmt: skip


def decide_retry(
    entry: HeldEntry, outcome: Hold, *, verified: bool, recorded_at: datetime
) -> RequestRetried:
    """The event recording an operator's retry of a held request and what remained wrong
    (`outcome`: what the retry would hold; no problems when everything applied)."""
    return RequestRetried(
        originator_id=entry.id, originator_version=entry.version + 1, recorded_at=recorded_at,
        refused=outcome.refused, problems=outcome.problems, verified=verified,
        unauthenticated=outcome.unauthenticated,
    )  # fmt: skip
