"""The WhatsApp lifecycle (Twilio's statuses, onto which Meta's Cloud API statuses map).

Same states as SMS, one difference: Meta reports `failed` after `sent` when a message cannot be
delivered, so `failed` is reachable from `sent` here and ranks above it. `read` implies
`delivered` (Meta skips `delivered` when a message is read at once), which the edge
delivered -> read gives us: a `read` observed after `sent` infers `delivered`.

States are listed from lowest to highest precedence (see `sms.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transitions import Machine

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict

STATES = [
    "receiving",
    "received",
    "processed",
    "scheduled",
    "canceled",
    "accepted",
    "queued",
    "sending",
    "sent",
    "failed",
    "partially_delivered",
    "undelivered",
    "delivered",
    "read",
]

TRANSITIONS: list[TransitionConfigDict] = [
    {"trigger": "receive", "source": "receiving", "dest": "received"},
    {"trigger": "schedule", "source": "processed", "dest": "scheduled"},
    {"trigger": "cancel", "source": "scheduled", "dest": "canceled"},
    {"trigger": "accept", "source": "processed", "dest": "accepted"},
    {"trigger": "queue", "source": ["processed", "scheduled", "accepted"], "dest": "queued"},
    {"trigger": "dispatch", "source": "queued", "dest": "sending"},
    {
        "trigger": "fail",
        "source": ["processed", "accepted", "queued", "sending", "sent"],
        "dest": "failed",
    },
    {"trigger": "hand_over", "source": "sending", "dest": "sent"},
    {"trigger": "deliver_partially", "source": "sent", "dest": "partially_delivered"},
    {"trigger": "bounce", "source": ["sent", "partially_delivered"], "dest": "undelivered"},
    {"trigger": "deliver", "source": ["sent", "partially_delivered"], "dest": "delivered"},
    {"trigger": "read", "source": "delivered", "dest": "read"},
]

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
