"""SendGrid's Event Webhook events, one JSON object each, mapped to observations and send records.

Every check here is about one event: a bad event raises `EventUnusable` with the reason it is
quarantined under, and its neighbours in the batch go on (see `SendGridAdapter.parse`). The
mapping is documented in docs/providers.md (SendGrid).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import orjson

from adapters.providers.base import BodyRefused
from engage_core import Channel, Observation, Send
from engage_core.observations import is_clean_text
from engage_core.provider_facts import ProviderFacts

PROVIDER: Final = "sendgrid"

# SendGrid's event names and the status or engagement each is on the email lifecycle
# (`open` with `sg_machine_open: true` becomes `machine_open`, see `_status`).
STATUSES: Final[Mapping[str, str]] = {
    "processed": "processed",
    "dropped": "dropped",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounce": "bounced",  # `type` "bounce" or "blocked": both bounced, `type` kept in details
    "open": "open",
    "click": "click",
    "spamreport": "spamreport",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "group_unsubscribe",
    "group_resubscribe": "group_resubscribe",
}
_GROUP_EVENTS: Final = frozenset({"group_unsubscribe", "group_resubscribe"})

# The sender's custom args (merged into each event at top level) that fill a `Send` field of the
# same name; Marketing Campaigns sends carry their campaign under names of their own.
_SEND_FIELDS: Final = (
    "user_id",
    "campaign_id",
    "campaign_name",
    "journey_id",
    "template_id",
    "email_subject",
)
_FALLBACKS: Final[Mapping[str, str]] = {
    "campaign_id": "marketing_campaign_id",
    "campaign_name": "marketing_campaign_name",
}
# Any of these on an event links it to the send: it then also yields a `Send` record.
_KEYED_FIELDS: Final = (*_SEND_FIELDS, *_FALLBACKS.values())
_LINK_FIELDS: Final = ("engage_message_id", *_KEYED_FIELDS)
_LINK_NAMES: Final = frozenset(_LINK_FIELDS)

# SendGrid appends a routing suffix to the Mail Send API's `X-Message-Id`:
# `14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0`, `5lFl7Fr1Rjme_EyzNNB_5A.stfilter-015…`,
# `A6FilwaAR_Wm_VTCEFql_w.filterdrecv-…`, and in newer events `0GOQ6fMTTmiZpLh7usBJwg.recvd-…`.
# The id before it is the one the sender recorded; an id with no suffix is taken whole.
_ROUTING_SUFFIX: Final = re.compile(r"\.(?=[a-z]*filter|recvd-)")

# Unix seconds fit in 11 digits until the year 5138; a longer text is not a timestamp, and
# bounding it keeps int() and float arithmetic away from huge numbers.
MAX_TIMESTAMP_DIGITS: Final = 12


class EventUnusable(Exception):
    """One event that cannot be mapped; its message is the quarantine reason."""


class Batch:
    """What mapping one request's events carries from one event to the next: the send records
    already taken (`_send`), each message's id (made once for all its events), and each
    distinct set of facts and each time, built once and shared by every event that states the
    same (they are immutable; the events of a message mostly state its address alone, and a
    batch's events fall in a few seconds)."""

    __slots__ = ("facts", "message_ids", "moments", "sends")

    def __init__(self) -> None:
        self.sends: set[tuple[Any, ...]] = set()
        self.message_ids: dict[str, UUID] = {}
        self.facts: dict[tuple[Any, ...], ProviderFacts] = {}
        self.moments: dict[int | float, datetime] = {}


def load_array(body: bytes) -> list[Any]:
    try:
        events = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyRefused("body is not UTF-8") from None
        raise BodyRefused(f"body is not JSON ({error})") from None
    if not isinstance(events, list):
        raise BodyRefused(f"body is a JSON {json_type(events)}; SendGrid posts an array of events")
    return events


def json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "null")


def raw_event(index: int, event: object) -> bytes:
    """The quarantined event's JSON. An event nested too deeply to re-encode is no SendGrid
    event at all (theirs are flat): the whole body is refused rather than kept unreadable."""
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError as error:
        raise BodyRefused(f"event {index} cannot be stored ({error}); events are flat") from None


# Mapping one event


def map_event(
    event: object, batch: Batch, canonical: Any = None
) -> tuple[Observation, Send | None]:
    """One event's observation, and its send record when it carries custom args and an equal
    record was not already taken from this batch (`batch` remembers them: the core would only
    count the repeats as duplicates). `canonical` is the event as `canonical_details` made it
    for the whole batch: with it, an event whose values pass the checks below is built trusted,
    without the constructor checking each value again; any other goes through the constructor,
    which refuses it with the reason it is quarantined under."""
    if not isinstance(event, dict):
        raise EventUnusable(f"an event is a JSON object (got a {json_type(event)})")
    name = _event_name(event)
    full_id = _text(event, "sg_message_id", _MISSING_MESSAGE_ID)
    email = _text(event, "email", "missing email")
    provider_message_id = _provider_message_id(full_id)
    occurred_at = _timestamp(event)
    details = _details(name, event, canonical)
    status = _status(name, event)
    event_id = _event_id(event)
    provider_keys = (_composite_key(full_id, name, event),)
    facts = _facts(name, email, details, batch.facts)
    observation = None
    if canonical is not None:
        fields = (provider_message_id, status, occurred_at, event_id, details, provider_keys, facts)
        observation = _trusted(*fields, batch)
    observation = observation or Observation(
        channel=Channel.EMAIL,
        provider=PROVIDER,
        provider_message_id=provider_message_id,
        status=status,
        occurred_at=occurred_at,
        event_id=event_id,
        details=details,
        provider_keys=provider_keys,
        facts=facts,
    )
    # SendGrid's `processed` is when it took the message: the send record's sent_at, so the
    # Email Processed published from that record carries the provider's time
    sent_at = occurred_at if name == "processed" else None
    return observation, _send(event, provider_message_id, email, batch.sends, sent_at)


def _trusted(
    provider_message_id: str,
    status: str,
    occurred_at: int | float,
    event_id: str | None,
    details: dict[str, Any],
    provider_keys: tuple[str, ...],
    facts: ProviderFacts,
    batch: Batch,
) -> Observation | None:
    """The observation built trusted when every value is one the constructor would take as it
    is (`STATUSES` are canonical email statuses and the composite key is never empty, so those
    need no check); None when one is not, for the constructor to refuse it in its own words."""
    if not is_clean_text(provider_message_id) or (
        event_id is not None and not is_clean_text(event_id)
    ):
        return None
    moment = batch.moments.get(occurred_at)
    if moment is None:
        try:
            moment = batch.moments[occurred_at] = datetime.fromtimestamp(occurred_at, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    known = batch.message_ids.get(provider_message_id)
    observation = Observation.trusted(
        channel=Channel.EMAIL,
        provider=PROVIDER,
        provider_message_id=provider_message_id,
        status=status,
        occurred_at=moment,
        event_id=event_id,
        details=details,
        provider_keys=provider_keys,
        facts=facts,
        message_id=known,
    )
    if known is None:
        batch.message_ids[provider_message_id] = observation.message_id
    return observation


_MISSING_MESSAGE_ID: Final = (
    "missing sg_message_id: SendGrid could not match this event to a message (it leaves the id "
    "out of asynchronous bounces and legacy marketing unsubscribes)"
)


def _event_name(event: Mapping[str, Any]) -> str:
    value = event.get("event")
    if value is None:
        raise EventUnusable("missing event")
    name = value.strip().lower() if isinstance(value, str) else ""
    if name not in STATUSES:
        raise EventUnusable(f"unknown event {value!r}; known: {', '.join(STATUSES)}")
    return name


def _text(event: Mapping[str, Any], field: str, missing: str) -> str:
    value = event.get(field)
    if value is None or value == "":
        raise EventUnusable(missing)
    if not isinstance(value, str) or not value.strip():
        raise EventUnusable(f"{field} is not a non-blank string ({value!r})")
    return value


def _provider_message_id(sg_message_id: str) -> str:
    """The id the sender knows (Mail Send's `X-Message-Id`): `sg_message_id` before SendGrid's
    routing suffix."""
    suffix = _ROUTING_SUFFIX.search(sg_message_id)
    prefix = sg_message_id[: suffix.start()] if suffix else sg_message_id
    if not prefix:
        raise EventUnusable(
            f"sg_message_id {sg_message_id[:60]!r} has no message id before its suffix"
        )
    return prefix


def _status(name: str, event: Mapping[str, Any]) -> str:
    if name == "open" and event.get("sg_machine_open") is True:
        return "machine_open"
    return STATUSES[name]


def _timestamp(event: Mapping[str, Any]) -> int | float:
    """Unix seconds; a string of digits too (SendGrid's own legacy example sends one)."""
    value = event.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= MAX_TIMESTAMP_DIGITS
    ):
        return int(value)
    raise EventUnusable(f"timestamp: Unix seconds required (got {value!r})")


def _event_id(event: Mapping[str, Any]) -> str | None:
    value = event.get("sg_event_id")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EventUnusable(f"sg_event_id is not a string ({value!r})")
    return value


def _details(name: str, event: dict[str, Any], canonical: Any = None) -> dict[str, Any]:
    """Every field of the event (`canonical`'s copy, when given); for group events also `group`,
    the group's name as the consent policy reads it (SendGrid names groups by number,
    `asm_group_id`), in its sorted place among the keys when the copy is canonical. A group
    event without a group is quarantined: a custom arg called `group` must not stand in for
    it."""
    base = event if canonical is None else canonical
    if name not in _GROUP_EVENTS:
        return base
    group = event.get("asm_group_id")
    if isinstance(group, str) and group.isascii() and group.isdigit():
        group = int(group)
    if not isinstance(group, int) or isinstance(group, bool):
        raise EventUnusable(f"{name} without an integer asm_group_id (got {group!r})")
    with_group = {**base, "group": str(group)}
    # keys sorted by code point, as the canonical encoding sorts them (its UTF-8 bytes' order)
    return with_group if canonical is None else dict(sorted(with_group.items()))


def _facts(
    name: str, email: str, details: Mapping[str, Any], shared: dict[tuple[Any, ...], ProviderFacts]
) -> ProviderFacts:
    """What the core reads of a SendGrid event: the address; a group event's group (its
    `asm_group_id`, as `_details` wrote it); a click's `url`; a bounce's `type`; the `reason`
    of a bounce, drop or deferral; a deferral's `attempt`. Each is a `str` (or the attempt an
    `int`) by the checks below, so they are built trusted, once per batch for the same facts
    (`shared`), but a boolean attempt, which the constructor refuses in its own words."""
    url, reason, kind = details.get("url"), details.get("reason"), details.get("type")
    attempt = details.get("attempt")
    contact = email.strip()
    group = details["group"] if name in _GROUP_EVENTS else None
    link_url = url if name == "click" and isinstance(url, str) else None
    reason = reason if isinstance(reason, str) else None
    bounce_type = kind if name == "bounce" and isinstance(kind, str) else None
    attempt = attempt if isinstance(attempt, str | int) and attempt != "" else None
    if attempt is True or attempt is False:
        return ProviderFacts(
            contact=contact, group=group, link_url=link_url, reason=reason,
            bounce_type=bounce_type, attempt=attempt,
        )  # fmt: skip
    # with the attempt's type: 1 and "1" are two facts
    said = (contact, group, link_url, reason, bounce_type, attempt, type(attempt))
    facts = shared.get(said)
    if facts is None:
        facts = shared[said] = ProviderFacts.trusted(
            contact=contact, group=group, link_url=link_url, reason=reason,
            bounce_type=bounce_type, attempt=attempt,
        )  # fmt: skip
    return facts


def _composite_key(sg_message_id: str, name: str, event: Mapping[str, Any]) -> str:
    """The event's identity without `sg_event_id`: message, event, time, and what was acted on
    (`url` for clicks, `asm_group_id` for group events; both when both are there, so two groups
    left from one preferences page in the same second stay two events)."""
    parts = (
        sg_message_id,
        name,
        event.get("timestamp"),
        event.get("url"),
        event.get("asm_group_id"),
    )
    try:
        return orjson.dumps(parts).decode()
    except orjson.JSONEncodeError as error:  # nested past orjson's depth: no SendGrid value
        raise EventUnusable(f"url or asm_group_id cannot be read ({error})") from None


def _send(
    event: Mapping[str, Any],
    provider_message_id: str,
    email: str,
    sends: set[tuple[Any, ...]],
    sent_at: Any = None,
) -> Send | None:
    """The sender's record this event's custom args describe, once per batch. (A batch of a
    thousand events carries the same args on each event of a message: the repeats are
    recognised by their raw values, before any work.)"""
    # most events carry none of the fields at all: one set operation tells, without a lookup
    # of each
    if _LINK_NAMES.isdisjoint(event) or all(event.get(field) is None for field in _LINK_FIELDS):
        return None
    raw = (provider_message_id, email, *map(event.get, _KEYED_FIELDS))
    try:
        # once per batch; again only to add the time a later `processed` brings
        if raw in sends and (sent_at is None or (*raw, "dated") in sends):
            return None
    except TypeError:  # an unhashable custom arg, refused just below
        pass
    values = {field: _link_value(event, field) for field in _KEYED_FIELDS}  # all checked,
    fields = {field: values[field] for field in _SEND_FIELDS}  # so `raw` is hashable below
    for field, fallback in _FALLBACKS.items():
        if fields[field] is None:
            fields[field] = values[fallback]
    send = Send(
        Channel.EMAIL, PROVIDER, provider_message_id, to=email.strip(), sent_at=sent_at, **fields
    )
    sends.add(raw)
    if sent_at is not None:
        sends.add((*raw, "dated"))
    return send


def _link_value(event: Mapping[str, Any], field: str) -> str | None:
    """A custom arg as text: SendGrid sends strings, Marketing Campaigns integer ids; blank is
    absent."""
    value = event.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise EventUnusable(f"{field}: a custom arg is a string (got {value!r})")
