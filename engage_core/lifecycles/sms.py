"""The SMS lifecycle, declared once as a `transitions` Machine: Twilio's statuses plus Engage's own
`processed`.

States are listed from lowest to highest precedence. The compiler checks that every edge goes
upwards, so the list is a linear extension of the reachability order; where two statuses are
incomparable (say `delivered` and `undelivered`), the higher one wins. Positive evidence ranks
higher: read > delivered > undelivered > sent > failed > canceled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transitions import Machine

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict

STATES = [
    # inbound messages have their own two-step life
    "receiving",
    "received",
    # outbound
    "processed",
    "scheduled",
    "canceled",
    "accepted",
    "queued",
    "sending",
    "failed",
    "sent",
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
    {"trigger": "fail", "source": ["processed", "accepted", "queued", "sending"], "dest": "failed"},
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
    "processed": "SMS Processed",
    "queued": "SMS Queued",
    "sending": "SMS Sending",
    "sent": "SMS Sent",
    "failed": "SMS Failed",
    "delivered": "SMS Delivered",
    "undelivered": "SMS Undelivered",
    "receiving": "SMS Receiving",
    "received": "SMS Received",
    "read": "SMS Read",
    # Twilio statuses with no event of their own in the Engage Events Source table: kept in the
    # message's history and carried as `status` on the events that follow.
    "scheduled": None,
    "accepted": None,
    "canceled": None,
    "partially_delivered": None,
}
