"""Inputs to the message lifecycle: provider-neutral observations and the sender's own record.

Adapters turn provider payloads into these; the CLI reads them from JSON Lines. Validation lives
here so every way in rejects the same things with the same words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import attrs
import orjson

from engage_core.channels import Channel
from engage_core.ids import message_id, normalise_provider
from engage_core.lifecycles import lifecycle


class InvalidInput(ValueError):
    """An input that cannot be accepted; the message names the field and what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _required_text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, f"required, a non-empty string (got {value!r})")
    return value.strip()


def _optional_text(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, f"a non-empty string when given (got {value!r})")
    return value.strip()


def parse_timestamp(value: object, field: str) -> datetime:
    """An ISO-8601 time (a trailing Z allowed) or Unix seconds; times without a zone are UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise InvalidInput(field, f"an ISO-8601 time or Unix seconds (got {value!r})")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise InvalidInput(field, f"Unix seconds out of range ({value!r})") from error
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as error:
            raise InvalidInput(field, f"not an ISO-8601 time ({value!r})") from error
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise InvalidInput(field, f"an ISO-8601 time or Unix seconds (got {value!r})")


def _canonical_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


@attrs.frozen
class Observation:
    """One provider report about one message: a status, or (email) an engagement.

    `dedup_key` identifies the report itself: the provider's event id when it has one, else a
    digest of what the report says, so an exact resend collapses and two different reports don't.
    """

    channel: Channel
    provider: str
    provider_message_id: str
    status: str  # a status or engagement kind of the channel's lifecycle, canonical
    occurred_at: datetime | None = None
    event_id: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)

    @cached_property
    def message_id(self) -> UUID:
        return message_id(self.channel, self.provider, self.provider_message_id)

    @cached_property
    def dedup_key(self) -> str:
        if self.event_id is not None:
            return f"id:{self.event_id}"
        occurred = self.occurred_at.isoformat() if self.occurred_at else None
        digest = hashlib.sha256(_canonical_json([self.status, occurred, self.details]))
        return f"sha256:{digest.hexdigest()[:32]}"

    @classmethod
    def create(
        cls,
        channel: Channel | str,
        provider: str,
        provider_message_id: str,
        status: str,
        *,
        occurred_at: datetime | str | int | float | None = None,
        event_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Observation:
        """Build a validated observation; raises `InvalidInput` naming the bad field."""
        return parse_observation(
            {
                "channel": channel.value if isinstance(channel, Channel) else channel,
                "provider": provider,
                "provider_message_id": provider_message_id,
                "status": status,
                "occurred_at": occurred_at,
                "event_id": event_id,
                "details": dict(details) if details is not None else None,
            }
        )


OBSERVATION_FIELDS = frozenset(
    {"channel", "provider", "provider_message_id", "status", "occurred_at", "event_id", "details"}
)


def parse_observation(data: object) -> Observation:
    """Validate one provider-neutral observation (the `engage observe` line format)."""
    if not isinstance(data, Mapping):
        raise InvalidInput("observation", f"a JSON object (got {type(data).__name__})")
    unknown = sorted(set(data) - OBSERVATION_FIELDS, key=str)
    if unknown:
        known = ", ".join(sorted(OBSERVATION_FIELDS))
        raise InvalidInput("observation", f"unknown field {unknown[0]!r} (known: {known})")
    try:
        channel = Channel.parse(data.get("channel"))
    except ValueError as error:
        raise InvalidInput("channel", str(error)) from error
    provider = normalise_provider(_required_text(data, "provider"))
    provider_message_id = _required_text(data, "provider_message_id")
    raw_status = _required_text(data, "status")
    status = lifecycle(channel).canonical(raw_status)
    if status is None:
        raise InvalidInput("status", f"unknown {channel.value} status {raw_status!r}")
    occurred_raw = data.get("occurred_at")
    occurred_at = None if occurred_raw is None else parse_timestamp(occurred_raw, "occurred_at")
    details = data.get("details")
    if details is None:
        details = {}
    if not isinstance(details, Mapping):
        raise InvalidInput("details", f"a JSON object when given (got {details!r})")
    try:
        details = orjson.loads(_canonical_json(details))
    except TypeError as error:
        raise InvalidInput("details", f"must be plain JSON ({error})") from error
    return Observation(
        channel=channel,
        provider=provider,
        provider_message_id=provider_message_id,
        status=status,
        occurred_at=occurred_at,
        event_id=_optional_text(data, "event_id"),
        details=details,
    )


@attrs.frozen
class Send:
    """The sender's own record of a message: who it went to and what it belongs to.

    `record_send` and the provider's first report may arrive in either order; both land on the
    same aggregate because its id derives from (channel, provider, provider_message_id).
    """

    channel: Channel
    provider: str
    provider_message_id: str
    to: str | None = None
    user_id: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    journey_id: str | None = None
    template_id: str | None = None
    email_subject: str | None = None
    sent_at: datetime | None = None

    @cached_property
    def message_id(self) -> UUID:
        return message_id(self.channel, self.provider, self.provider_message_id)

    @cached_property
    def dedup_key(self) -> str:
        fields = attrs.asdict(self, recurse=False)
        fields["channel"] = self.channel.value
        fields["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        return "send:" + hashlib.sha256(_canonical_json(fields)).hexdigest()[:32]

    @classmethod
    def create(
        cls, channel: Channel | str, provider: str, provider_message_id: str, **fields: Any
    ) -> Send:
        """Build a validated send record; raises `InvalidInput` naming the bad field."""
        try:
            parsed_channel = Channel.parse(channel)
        except ValueError as error:
            raise InvalidInput("channel", str(error)) from error
        data = {"provider": provider, "provider_message_id": provider_message_id, **fields}
        known = {a.name for a in attrs.fields(cls)} - {"channel"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(
                "send", f"unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        text = {
            name: _optional_text(data, name)
            for name in known - {"provider", "provider_message_id", "sent_at"}
        }
        sent_raw = data.get("sent_at")
        sent_at = None if sent_raw is None else parse_timestamp(sent_raw, "sent_at")
        return cls(
            channel=parsed_channel,
            provider=normalise_provider(_required_text(data, "provider")),
            provider_message_id=_required_text(data, "provider_message_id"),
            sent_at=sent_at,
            **text,
        )
