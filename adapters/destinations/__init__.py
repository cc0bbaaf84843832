"""Destinations: the outbox's Segment-spec events delivered to a JSON Lines file, an HTTP
webhook, Segment's HTTP API or a SQL table. Each destination reads the outbox from its own
cursor, in batches, at least once (the deterministic messageIds make it effectively once
downstream); what keeps failing is parked in dead letters, listed and redriven, never dropped.
"""

from adapters.destinations.base import (
    Batch,
    DeliveryFailed,
    Destination,
    Misconfigured,
    PermanentFailure,
    TooLarge,
    TransientFailure,
    Unacceptable,
)
from adapters.destinations.delivery import (
    Cooldown,
    CursorLost,
    OutboxBehind,
    Report,
    RetryPolicy,
    Stopped,
    deliver,
    pending_after,
)
from adapters.destinations.exclusive import Guarded, RoleLock, RoleLost, role_lock
from adapters.destinations.jsonl import JsonlDestination
from adapters.destinations.ledger import CursorMoved, DeadLetter, Ledger, Parked
from adapters.destinations.replays import redrive, replay, since
from adapters.destinations.segment import SegmentDestination
from adapters.destinations.settings import ConfigError, Configured, Settings, load_settings
from adapters.destinations.signature import SIGNATURE_HEADER, sign, verify_signature
from adapters.destinations.sql import PostgresTableDestination, SqliteTableDestination
from adapters.destinations.webhook import WebhookDestination
from adapters.redaction import redact

__all__ = [
    "SIGNATURE_HEADER",
    "Batch",
    "ConfigError",
    "Configured",
    "Cooldown",
    "CursorLost",
    "CursorMoved",
    "DeadLetter",
    "DeliveryFailed",
    "Destination",
    "Guarded",
    "JsonlDestination",
    "Ledger",
    "Misconfigured",
    "OutboxBehind",
    "Parked",
    "PermanentFailure",
    "PostgresTableDestination",
    "Report",
    "RetryPolicy",
    "RoleLock",
    "RoleLost",
    "SegmentDestination",
    "Settings",
    "SqliteTableDestination",
    "Stopped",
    "TooLarge",
    "TransientFailure",
    "Unacceptable",
    "WebhookDestination",
    "deliver",
    "load_settings",
    "pending_after",
    "redact",
    "redrive",
    "replay",
    "role_lock",
    "sign",
    "since",
    "verify_signature",
]
