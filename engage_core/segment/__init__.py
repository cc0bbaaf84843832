"""The Engage Events Source contract: every domain fact as a Segment-spec track event."""

from engage_core.segment.mapping import EventSettings, consent_events, message_events
from engage_core.segment.names import ALL_EVENT_NAMES, LEGACY_GROUP_UNSUBSCRIBED
from engage_core.segment.track import TrackEvent

__all__ = [
    "ALL_EVENT_NAMES",
    "LEGACY_GROUP_UNSUBSCRIBED",
    "EventSettings",
    "TrackEvent",
    "consent_events",
    "message_events",
]
