"""The email lifecycle: SendGrid's delivery events plus its engagement events.

`processed -> deferred* -> delivered | bounced`, `processed -> dropped`. States are listed from
lowest to highest precedence (see `sms.py`): delivered > bounced > deferred > dropped.

Engagement (opens, machine opens, clicks, spam reports, unsubscribes, group events) is not a
status: it is a grow-only record on the message, and each engagement implies `delivered`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transitions import Machine

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict

STATES = ["processed", "dropped", "deferred", "bounced", "delivered"]

TRANSITIONS: list[TransitionConfigDict] = [
    {"trigger": "drop", "source": "processed", "dest": "dropped"},
    {"trigger": "defer", "source": ["processed", "deferred"], "dest": "deferred"},
    {"trigger": "bounce", "source": ["processed", "deferred"], "dest": "bounced"},
    {"trigger": "deliver", "source": ["processed", "deferred"], "dest": "delivered"},
]

MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="processed",
    auto_transitions=False,
)

EVENT_NAMES: dict[str, str | None] = {
    "processed": "Email Processed",
    "deferred": "Email Deferred",
    "delivered": "Email Delivered",
    "bounced": "Email Bounced",
    "dropped": "Email Dropped",
}

# Engagement kinds, the Segment event each becomes, and the status each implies.
ENGAGEMENT_NAMES: dict[str, str] = {
    "open": "Email Opened",
    "machine_open": "Email Machine Opened",
    "click": "Email Link Clicked",
    "spamreport": "Email Marked as Spam",
    "unsubscribe": "Email Unsubscribed",
    "group_unsubscribe": "Email Group Unsubscribed",
    "group_resubscribe": "Email Group Subscribed",
}
ENGAGEMENT_IMPLIES = "delivered"

# SendGrid's own words for statuses, accepted on input.
ALIASES: dict[str, str] = {"bounce": "bounced"}
