"""A Segment-spec `track` call (https://segment.com/docs/connections/spec/track/), as Engage
publishes it: attrs, serialised to Segment's camelCase JSON by the one cattrs converter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from engage_core.serialisation import converter

LIBRARY_NAME = "engage-core"
MAX_MESSAGE_ID = 100  # Segment's limit on messageId


@attrs.frozen(kw_only=True)
class TrackEvent:
    """One track call. Exactly one of `user_id` and `anonymous_id` is set; `message_id` is
    deterministic from the domain event (the same on every rebuild and retry, so delivery
    at least once is effectively once downstream)."""

    type: str = "track"
    event: str
    user_id: str | None = None
    anonymous_id: str | None = None
    message_id: str
    timestamp: datetime
    # `context.library`: the name, and the version the caller knows (the core reads no
    # package metadata of its own; the views pass the installed version)
    context: Mapping[str, Any] = attrs.field(factory=lambda: {"library": {"name": LIBRARY_NAME}})
    properties: Mapping[str, Any]

    def __attrs_post_init__(self) -> None:
        if (self.user_id is None) == (self.anonymous_id is None):
            raise ValueError("a track event needs exactly one of userId and anonymousId")
        if not 0 < len(self.message_id) <= MAX_MESSAGE_ID:
            raise ValueError(f"messageId must be 1 to {MAX_MESSAGE_ID} characters")
        if self.timestamp.tzinfo is None:
            raise ValueError("timestamp must have a time zone")

    def as_segment(self) -> dict[str, Any]:
        """The JSON object Segment's HTTP API takes (camelCase, ISO-8601 timestamp), by the
        one cattrs converter every persisted and published value goes through."""
        body: dict[str, Any] = converter.unstructure(self)
        return body


converter.register_unstructure_hook(
    TrackEvent,
    make_dict_unstructure_fn(
        TrackEvent,
        converter,
        message_id=override(rename="messageId"),
        timestamp=override(unstruct_hook=datetime.isoformat),  # plain JSON, zone included
        user_id=override(rename="userId", omit_if_default=True),
        anonymous_id=override(rename="anonymousId", omit_if_default=True),
    ),
)
