"""Engage core: message lifecycles (and, next, consent) as event-sourced aggregates.

No I/O of its own: persistence is eventsourcing's, configured from outside (see `adapters`).
"""

from engage_core.application import ConcurrentWriteError, EngageApplication
from engage_core.channels import USUAL_PROVIDERS, Channel
from engage_core.ids import message_id
from engage_core.lifecycles import LIFECYCLES, Lifecycle, Relation, lifecycle
from engage_core.message.events import (
    DuplicateIgnored,
    MessageEvent,
    Observed,
    Outcome,
    SendRecorded,
)
from engage_core.message.history import history
from engage_core.message.result import ObserveResult
from engage_core.message.state import Engagement, HistoryEntry, Message, MessageState
from engage_core.observations import InvalidInput, Observation, Send, parse_observation

__all__ = [
    "LIFECYCLES",
    "USUAL_PROVIDERS",
    "Channel",
    "ConcurrentWriteError",
    "DuplicateIgnored",
    "EngageApplication",
    "Engagement",
    "HistoryEntry",
    "InvalidInput",
    "Lifecycle",
    "Message",
    "MessageEvent",
    "MessageState",
    "Observation",
    "ObserveResult",
    "Observed",
    "Outcome",
    "Relation",
    "Send",
    "SendRecorded",
    "history",
    "lifecycle",
    "message_id",
    "parse_observation",
]
