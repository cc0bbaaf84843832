"""The WhatsApp lifecycle: Twilio's statuses (as for SMS), onto which Meta's Cloud API statuses
map, with one difference declared here rather than copied.

Meta reports `failed` after `sent` when a message cannot be delivered, so `failed` is reachable
from `sent` here and ranks just above it. `read` implies `delivered` (Meta skips `delivered` when
a message is read at once), which the delivered -> read edge gives us: a `read` observed after
`sent` infers `delivered`.

States are listed from lowest to highest precedence (see `sms.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transitions import Machine

from engage_core.lifecycles import sms

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict

_OUTBOUND_WITHOUT_FAILED = [s for s in sms.STATES if s != "failed"]
_SENT = _OUTBOUND_WITHOUT_FAILED.index("sent")

STATES = [
    *_OUTBOUND_WITHOUT_FAILED[: _SENT + 1],
    "failed",
    *_OUTBOUND_WITHOUT_FAILED[_SENT + 1 :],
]


def _may_fail_after_sent(transition: TransitionConfigDict) -> TransitionConfigDict:
    if transition["trigger"] != "fail":
        return transition
    sources = transition["source"]
    assert isinstance(sources, list), "sms.py declares the fail sources as a list"
    return {**transition, "source": [*sources, "sent"]}


TRANSITIONS: list[TransitionConfigDict] = [_may_fail_after_sent(t) for t in sms.TRANSITIONS]

MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="processed",
    auto_transitions=False,
)

EVENT_NAMES: dict[str, str | None] = {
    "queued": "WhatsApp Message Queued",
    "accepted": "WhatsApp Message Accepted",
    "sending": "WhatsApp Message Sending",
    "sent": "WhatsApp Message Sent",
    "failed": "WhatsApp Message Failed",
    "delivered": "WhatsApp Message Delivered",
    "undelivered": "WhatsApp Message Undelivered",
    "receiving": "WhatsApp Message Receiving",
    "received": "WhatsApp Message Received",
    "read": "WhatsApp Message Read",
    # No event of their own in the Engage Events Source table (see sms.py).
    "processed": None,
    "scheduled": None,
    "canceled": None,
    "partially_delivered": None,
}
