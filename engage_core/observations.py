"""Inputs to the message lifecycle: provider-neutral observations and the sender's own record.

Adapters turn provider payloads into these; the CLI reads them from JSON Lines. The classes
validate themselves on construction (a bad status stored once would break its message for
good), and `parse_observation` adds the checks JSON needs, so every way in rejects the same
things with the same words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import attrs
import orjson

from engage_core.channels import Channel
from engage_core.errors import InvalidInput as InvalidInput
from engage_core.errors import refuse_unknown
from engage_core.ids import message_id, normalise_provider
from engage_core.lifecycles import lifecycle
from engage_core.limits import DEFAULT_LIMITS, SETTINGS, Limits
from engage_core.provider_facts import FACT_NAMES as FACT_NAMES
from engage_core.provider_facts import NO_FACTS as NO_FACTS
from engage_core.provider_facts import ProviderFacts as ProviderFacts
from engage_core.provider_facts import facts_from

__all__ = [
    "FACT_NAMES", "MAX_TEXT_LENGTH", "NO_FACTS", "OBSERVATION_FIELDS", "InvalidInput",
    "Observation", "ProviderFacts", "Send", "canonical_details", "check_details_size",
    "is_clean_text", "parse_observation", "parse_timestamp",
]  # fmt: skip


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
    """An ISO-8601 time (a trailing Z allowed) or Unix seconds, as UTC; a time without a zone is
    taken as UTC. One instant always reads the same, so it digests the same."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, bool):
        raise InvalidInput(field, f"an ISO-8601 time or Unix seconds (got {value!r})")
    elif isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise InvalidInput(field, f"Unix seconds out of range ({value!r})") from error
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as error:
            raise InvalidInput(field, f"not an ISO-8601 time ({value!r})") from error
    else:
        raise InvalidInput(field, f"an ISO-8601 time or Unix seconds (got {value!r})")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise InvalidInput(field, f"out of range in UTC ({value!r})") from error


def _occurred_at(value: object) -> datetime | None:
    return None if value is None else parse_timestamp(value, "occurred_at")


def _sent_at(value: object) -> datetime | None:
    return None if value is None else parse_timestamp(value, "sent_at")


def _provider(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("provider", f"required, a non-empty string (got {value!r})")
    provider = normalise_provider(value)
    _check_text_shape("provider", provider)
    return provider


def _text(field: str) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(field, f"required, a non-empty string (got {value!r})")
        _check_text_shape(field, value)

    return check


def _optional_text_value(field: str) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(field, f"a non-empty string when given (got {value!r})")
        _check_text_shape(field, value)

    return check


# Provider ids are tens of characters (Twilio 34, SendGrid ~50, Meta ~60), and the send record's
# texts are names and subjects; anything longer is not one of those, and would bloat every event
# of its message.
MAX_TEXT_LENGTH = 1024


def _check_text_shape(field: str, value: str) -> None:
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInput(field, f"longer than {MAX_TEXT_LENGTH} characters ({len(value)})")
    # `create` and the JSON reader strip; a constructor given " S1 " would otherwise route to
    # another message than the JSON line " S1 ", silently
    if value != value.strip():
        raise InvalidInput(field, f"surrounding whitespace (got {value!r}); strip it first")


def _details(value: object) -> dict[str, Any]:
    """Plain JSON only: what is stored must load back equal, and a bad value found later would
    fail its whole batch."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("details", f"a JSON object when given (got {value!r})")
    try:  # encoded one level down, as the stored event holds it (orjson's depth is bounded)
        [plain] = orjson.loads(_canonical_json([dict(value)]))
    except TypeError as error:
        raise InvalidInput("details", f"must be plain JSON ({error})") from error
    assert isinstance(plain, dict)
    return plain


def _as_tuple(value: Iterable[str]) -> tuple[str, ...]:
    """Any iterable of keys (a list from JSON, a generator) as an immutable tuple."""
    return tuple(value)


def _channel(value: object) -> Channel:
    try:
        return Channel.parse(value)
    except ValueError as error:
        raise InvalidInput("channel", str(error)) from error


def _canonical_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


def _digest(value: object) -> str:
    return hashlib.sha256(_canonical_json(value)).hexdigest()[:32]


@attrs.frozen
class Observation:
    """One provider report about one message: a status, or (email) an engagement.

    Its dedup keys identify the report itself. With the provider's `event_id`, that id (per
    status, so an id reused for another status is not taken for a resend); with `provider_keys`,
    those too (a provider's composite key, e.g. SendGrid's, whose event ids change on retries);
    with neither, a digest of what the report says, so an exact resend collapses and two
    different reports don't. A report sharing any key with an earlier one is a duplicate.

    `facts` are what the report says under the core's names (`ProviderFacts`), filled by the
    adapter that read it. None means nobody said: the message step then reads them from
    `details` as observation lines written before typed facts name them.
    """

    channel: Channel = attrs.field(converter=_channel)
    provider: str = attrs.field(converter=_provider)
    provider_message_id: str = attrs.field(validator=_text("provider_message_id"))
    status: str = attrs.field()  # canonical status or engagement kind of the channel
    occurred_at: datetime | None = attrs.field(default=None, converter=_occurred_at)
    event_id: str | None = attrs.field(default=None, validator=_optional_text_value("event_id"))
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=_details)
    provider_keys: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    facts: ProviderFacts | None = attrs.field(default=None, converter=facts_from)

    @provider_keys.validator
    def _keys_are_text(self, _: object, value: tuple[object, ...]) -> None:
        if not all(isinstance(key, str) and key for key in value):
            raise InvalidInput("provider_keys", f"non-empty strings (got {value!r})")

    @status.validator
    def _known_status(self, _: object, value: object) -> None:
        if not isinstance(value, str) or lifecycle(self.channel).canonical(value) != value:
            raise InvalidInput(
                "status", f"unknown {self.channel.value} status {value!r} (see docs/lifecycles.md)"
            )

    @classmethod
    def trusted(
        cls, *, channel: Channel, provider: str, provider_message_id: str, status: str,
        occurred_at: datetime | None, event_id: str | None, details: dict[str, Any],
        provider_keys: tuple[str, ...], facts: ProviderFacts | None,
        message_id: UUID | None = None,
    ) -> Observation:  # fmt: skip
        """The observation of values already as the constructor leaves them (a normalised
        provider, `is_clean_text` ids, a canonical status, a UTC time, `canonical_details`),
        without its converters and validators: an adapter that checked a batch at the edge pays
        once per check. The caller answers for the values; what it has not checked goes to the
        constructor. `message_id`, when given, is the one `ids.message_id` made for these
        channel, provider and id (the events of one message in a batch share it)."""
        self = _new(cls)
        _set_channel(self, channel)
        _set_provider(self, provider)
        _set_provider_message_id(self, provider_message_id)
        _set_status(self, status)
        _set_occurred_at(self, occurred_at)
        _set_event_id(self, event_id)
        _set_details(self, details)
        _set_provider_keys(self, provider_keys)
        _set_facts(self, facts)
        if message_id is not None:
            _set_message_id(self, message_id)
        if keys := _keys_of(status, event_id, provider_keys):  # else a digest, made when asked
            _set_dedup_keys(self, keys)  # now: reading a cached property costs more
        return self

    @cached_property
    def message_id(self) -> UUID:
        return message_id(self.channel, self.provider, self.provider_message_id)

    @cached_property
    def dedup_keys(self) -> tuple[str, ...]:
        if keys := _keys_of(self.status, self.event_id, self.provider_keys):
            return keys
        occurred = self.occurred_at.isoformat() if self.occurred_at else None
        said = [self.status, occurred, self.details]
        if self.facts is not None and self.facts.given():  # (a digest from before facts
            said.append(self.facts.given())  # stays the same)
        return ("sha256:" + _digest(said),)

    @classmethod
    def create(
        cls, channel: Channel | str, provider: str, provider_message_id: str, status: str, *,
        occurred_at: datetime | str | int | float | None = None, event_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        facts: ProviderFacts | Mapping[str, Any] | None = None,
    ) -> Observation:  # fmt: skip
        """Build a validated observation, status words forgiven as in JSON ("Bounce" is
        "bounced"); raises `InvalidInput` naming the bad field."""
        return parse_observation({
            "channel": channel.value if isinstance(channel, Channel) else channel,
            "provider": provider, "provider_message_id": provider_message_id, "status": status,
            "occurred_at": occurred_at, "event_id": event_id,
            "details": dict(details) if details is not None else None, "facts": facts,
        })  # fmt: skip


# The slots' own setters (a frozen class refuses `setattr`), for the trusted constructor.
_new = object.__new__
(
    _set_channel, _set_provider, _set_provider_message_id, _set_status, _set_occurred_at,
    _set_event_id, _set_details, _set_provider_keys, _set_facts,
) = (vars(Observation)[field.name].__set__ for field in attrs.fields(Observation))  # fmt: skip
_set_message_id = vars(Observation)["message_id"].__set__  # the slots the cached properties fill
_set_dedup_keys = vars(Observation)["dedup_keys"].__set__


def _keys_of(status: str, event_id: str | None, provider_keys: tuple[str, ...]) -> tuple[str, ...]:
    """An observation's dedup keys from its ids (none: it is known by a digest instead), made
    with a plain loop, half the time of a comprehension's frame: every report makes them."""
    keys = [f"id:{status}:{event_id}"] if event_id is not None else []
    for key in provider_keys:
        keys.append(f"key:{key}")
    return tuple(keys)


def is_clean_text(value: str) -> bool:
    """Whether `value` passes as one of `Observation`'s texts unchanged: not blank, no
    surrounding whitespace, not over `MAX_TEXT_LENGTH`."""
    return bool(value) and len(value) <= MAX_TEXT_LENGTH and value == value.strip()


def canonical_details(values: list[Any]) -> list[Any] | None:
    """Each of `values` (a decoded JSON batch) as the constructor keeps it in `details` (keys
    sorted at every depth, a copy of its own), in one encoding of the batch rather than one per
    element; None when the batch cannot be encoded whole (an element nested too deeply, with a
    level to spare), for each element to go through the constructor, which names the one."""
    try:
        [plain] = orjson.loads(_canonical_json([values]))
    except TypeError:
        return None
    return plain  # type: ignore[no-any-return]


OBSERVATION_FIELDS = frozenset(
    {
        "channel", "provider", "provider_message_id", "status", "occurred_at", "event_id",
        "details", "facts",
    }
)  # fmt: skip


def check_details_size(observation: Observation, limit: int) -> None:
    """`InvalidInput` naming `details` (or `facts`) and the limit when the observation's details
    (or its facts), as compact JSON, are over `limit` bytes: they are stored with the report and
    read back with every history of its message, so one oversized report would weigh on all of
    them. The facts repeat a part of the details, so they have the same limit, on their own."""
    facts = observation.facts.given() if observation.facts is not None else {}
    parts = (("details", observation.details), ("facts", facts))
    for field, value in parts:
        size = len(orjson.dumps(value)) if value else 0
        if size > limit:
            raise InvalidInput(
                field,
                f"{size} bytes as JSON, over the limit of {limit} ({SETTINGS['details_bytes']})",
            )


def parse_observation(data: object, *, limits: Limits = DEFAULT_LIMITS) -> Observation:
    """Validate one provider-neutral observation (the `engage observe` line format), its
    `details` and its `facts` each no bigger than `limits.details_bytes`."""
    if not isinstance(data, Mapping):
        raise InvalidInput("observation", f"a JSON object (got {type(data).__name__})")
    refuse_unknown("observation", data, OBSERVATION_FIELDS, "field")
    channel = _channel(data.get("channel"))
    raw_status = _required_text(data, "status")
    status = lifecycle(channel).canonical(raw_status) or raw_status
    observation = Observation(
        channel=channel,
        provider=data.get("provider"),  # validated by the class
        provider_message_id=_required_text(data, "provider_message_id"),
        status=status,
        occurred_at=data.get("occurred_at"),
        event_id=_optional_text(data, "event_id"),
        details=data.get("details"),
        facts=data.get("facts"),
    )
    check_details_size(observation, limits.details_bytes)
    return observation


@attrs.frozen
class Send:
    """The sender's own record of a message: who it went to and what it belongs to.

    `record_send` and the provider's first report may arrive in either order; both land on the
    same aggregate because its id derives from (channel, provider, provider_message_id).
    """

    channel: Channel = attrs.field(converter=_channel)
    provider: str = attrs.field(converter=_provider)
    provider_message_id: str = attrs.field(validator=_text("provider_message_id"))
    to: str | None = attrs.field(default=None, validator=_optional_text_value("to"))
    user_id: str | None = attrs.field(default=None, validator=_optional_text_value("user_id"))
    campaign_id: str | None = attrs.field(
        default=None, validator=_optional_text_value("campaign_id")
    )
    campaign_name: str | None = attrs.field(
        default=None, validator=_optional_text_value("campaign_name")
    )
    journey_id: str | None = attrs.field(default=None, validator=_optional_text_value("journey_id"))
    template_id: str | None = attrs.field(
        default=None, validator=_optional_text_value("template_id")
    )
    email_subject: str | None = attrs.field(
        default=None, validator=_optional_text_value("email_subject")
    )
    sent_at: datetime | None = attrs.field(default=None, converter=_sent_at)

    @cached_property
    def message_id(self) -> UUID:
        return message_id(self.channel, self.provider, self.provider_message_id)

    @cached_property
    def dedup_keys(self) -> tuple[str, ...]:
        fields = attrs.asdict(self, recurse=False)
        fields["channel"] = self.channel.value
        return ("send:" + _digest(fields),)

    @classmethod
    def create(
        cls, channel: Channel | str, provider: str, provider_message_id: str, **fields: Any
    ) -> Send:
        """Build a validated send record; raises `InvalidInput` naming the bad field."""
        known = {a.name for a in attrs.fields(cls)} - {"channel", "provider", "provider_message_id"}
        unknown = sorted(set(fields) - known)
        if unknown:
            listed = ", ".join(sorted(known))
            raise InvalidInput("send", f"unknown field {unknown[0]!r} (known: {listed})")
        cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
        if isinstance(provider_message_id, str):
            provider_message_id = provider_message_id.strip()
        return cls(channel, provider, provider_message_id, **cleaned)
