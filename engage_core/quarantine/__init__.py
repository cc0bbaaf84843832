"""Quarantine: provider requests that could not be applied, kept whole so nothing is lost.

A request is held when it was refused (bad signature, a body the provider does not send) or when
single elements of it could not be mapped; its raw bytes, headers and URL are kept exactly as
received, with every reason, so an operator can list it and, after a fix (the right secret, a
newer Engage that knows a new status), run it again. Running a held request again is safe
because everything of it that was applied the first time is a duplicate now: the message
aggregates' dedup keys make re-application idempotent.

One aggregate per distinct request (provider, URL and body digest), so the same bad request
arriving again is one entry seen twice, not two entries.

A request held without a verified signature (a bad or missing one, or a body over its size
limit, which is never verified) keeps only its first bytes, with its full size and SHA-256:
whoever sent it is unknown, and unsigned junk must not fill the disk. Such a hold says what
came but cannot be run again (`HeldRequest.truncated`); the provider's own retries, answered
with an error, bring the request back whole.

The folder has the shape of `engage_core.message`: `request` (what was received), `events`,
`state`, pure `decide` and `evolve`, and `listing` (entry ids from the log).
"""

from engage_core.quarantine.decide import decide_hold, decide_retry
from engage_core.quarantine.events import (
    QUARANTINE_EVENT_CLASSES,
    QuarantineEvent,
    RequestHeldAgain,
    RequestQuarantined,
    RequestRetried,
)
from engage_core.quarantine.evolve import evolve_held, fold_held
from engage_core.quarantine.request import HeldRequest, Hold, Problem
from engage_core.quarantine.state import HeldEntry

__all__ = [
    "QUARANTINE_EVENT_CLASSES",
    "HeldEntry",
    "HeldRequest",
    "Hold",
    "Problem",
    "QuarantineEvent",
    "RequestHeldAgain",
    "RequestQuarantined",
    "RequestRetried",
    "decide_hold",
    "decide_retry",
    "evolve_held",
    "fold_held",
]
