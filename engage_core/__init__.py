"""Engage core: message lifecycles and consent as event-sourced aggregates.

No I/O of its own: persistence is eventsourcing's, configured from outside (see `adapters`).
The names below load on first use, so a program that needs one corner of the core (the CLI
drawing a lifecycle, say) does not pay for the application and eventsourcing at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# where each public name lives
_HOMES: dict[str, str] = {
    "Channel": "engage_core.channels",
    "ConcurrentWriteError": "engage_core.application",
    "DuplicateIgnored": "engage_core.message.events",
    "EngageApplication": "engage_core.application",
    "Engagement": "engage_core.message.state",
    "HistoryEntry": "engage_core.message.state",
    "InvalidInput": "engage_core.observations",
    "LIFECYCLES": "engage_core.lifecycles",
    "Lifecycle": "engage_core.lifecycles",
    "Message": "engage_core.message.state",
    "MessageEvent": "engage_core.message.events",
    "MessageState": "engage_core.message.state",
    "Observation": "engage_core.observations",
    "ObserveResult": "engage_core.message.result",
    "Observed": "engage_core.message.events",
    "Outcome": "engage_core.message.events",
    "Relation": "engage_core.lifecycles",
    "Send": "engage_core.observations",
    "SendRecorded": "engage_core.message.events",
    "USUAL_PROVIDERS": "engage_core.channels",
    "history": "engage_core.message.history",
    "lifecycle": "engage_core.lifecycles",
    "message_id": "engage_core.ids",
    "parse_observation": "engage_core.observations",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engage_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
