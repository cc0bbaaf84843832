"""The persisted facts of a message's life: frozen attrs events with explicit, stable topics.

Each event carries the decision made when it was recorded (outcome, inferred steps, the status
after it), so replaying the log never re-validates against a lifecycle that may since have
changed. Topics are strings of our own, not module paths: moving a class never orphans records.
Bump `class_version` and add `upcast_vN_vN+1(state)` when a field changes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs
import orjson

from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.events import DomainEvent
from engage_core.observations import NO_FACTS, InvalidInput, ProviderFacts, Send


class Outcome(enum.Enum):
    """What an input did to its message."""

    APPLIED = "applied"  # advanced the status, or added engagement
    LATE = "late"  # an earlier (or the same) status: recorded, changes nothing
    CONFLICT = "conflict"  # incomparable with the current status: precedence decided
    DUPLICATE = "duplicate"  # the same report again (same dedup key): recorded, changes nothing


@attrs.frozen(kw_only=True)
class MessageEvent(DomainEvent):
    """Fields every message event has. `originator_*` are what eventsourcing stores as columns."""

    channel: Channel
    provider: str
    provider_message_id: str


@attrs.frozen(kw_only=True)
class SendRecorded(MessageEvent):
    """The sender recorded the message (`record_send`). Fills in what provider reports lack."""

    TOPIC: ClassVar[str] = "engage.message.SendRecorded"

    send: Send
    dedup_keys: tuple[str, ...]
    outcome: Outcome
    status_after: str


@attrs.frozen(kw_only=True)
class Observed(MessageEvent):
    """A provider reported a status or an engagement, and this is what it did."""

    TOPIC: ClassVar[str] = "engage.message.Observed"
    # v2: `claimed_at`, the time the report claimed when the clock-skew policy clamped it
    # v3: `facts`, what the report says under the core's names
    class_version: ClassVar[int] = 3

    status: str
    occurred_at: datetime | None
    event_id: str | None
    dedup_keys: tuple[str, ...]
    details: Mapping[str, Any]
    outcome: Outcome
    inferred: tuple[str, ...]  # statuses this report newly proves the message passed
    status_after: str
    # the report's own time when it was further ahead of ours than the clock-skew policy
    # allows, and `occurred_at` is when we recorded it instead (None: not clamped)
    claimed_at: datetime | None = None
    # what the report says besides its status (contact, text, group, error…), typed: the one
    # thing the core reads of a report beyond its status (`details` is the record as sent)
    facts: ProviderFacts = NO_FACTS

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("claimed_at", None)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """An event stored before typed facts: its facts read from its `details`, as the core
        read them then (`facts_from_details`), so a rebuild publishes the same events. This
        is the one place the core still reads providers' wire names out of `details`, for
        records from before v3 only. A record that is no `Observed` is left as it is, for
        structuring to refuse naming what is wrong."""
        channel, status, details = state.get("channel"), state.get("status"), state.get("details")
        known = channel in {c.value for c in Channel} and isinstance(status, str)
        if known and isinstance(details, dict):
            facts = facts_from_details(Channel(channel), str(status), details)
            state["facts"] = facts.given()


@attrs.frozen(kw_only=True)
class DuplicateIgnored(MessageEvent):
    """A report (or send record) seen before arrived again; kept so nothing vanishes."""

    TOPIC: ClassVar[str] = "engage.message.DuplicateIgnored"

    status: str  # the reported status, or "processed" for a repeated send record
    occurred_at: datetime | None
    dedup_keys: tuple[str, ...]  # all of them: a key new to the message joins the seen ones


# Reading facts out of `details`, under the wire names providers use (Twilio's `From`, `Body`,
# `OptOutType`, `ErrorCode`; SendGrid's `email`, `reason`, `type`; Meta's `recipient_id`,
# `errors`): the one place in the core that still does. It serves the records from before
# typed facts only: events stored before `Observed` v3 (`upcast_v2_v3`) and observations that
# carry no facts (`Observation.facts` None: an `engage observe` line written the old way).
# Adapters fill `ProviderFacts` themselves; nothing else in the core reads `details`.

_INBOUND = frozenset({"receiving", "received"})
_GROUP_EVENTS = frozenset({"group_unsubscribe", "group_resubscribe"})


def _text(details: Mapping[str, Any], *names: str) -> str | None:
    """The first of these fields that holds a non-blank string."""
    for name in names:
        value = details.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _contact(channel: Channel, details: Mapping[str, Any], status: str) -> str | None:
    """The address the core took for the report's contact: the email's `email`; an inbound
    message's `From`, else `from`; a status report's `To`, else `recipient_id`. A number in
    digits only (Meta's) gains its `+`, and a value that is no contact gives way to the next."""
    if channel is Channel.EMAIL:
        email = _text(details, "email")
        return email.strip() if email is not None else None
    names = ("From", "from") if status in _INBOUND else ("To", "recipient_id")
    for name in names:
        raw = _text(details, name)
        if raw is None:
            continue
        text = raw.strip()
        text = "+" + text if text.isdigit() else text
        try:
            ContactKey.parse(channel, text)
        except InvalidInput:
            continue
        return text
    return None


def _error_code(details: Mapping[str, Any]) -> str | None:
    """Twilio's `ErrorCode`, else the code of Meta's first error."""
    error = details.get("ErrorCode")
    errors = details.get("errors")
    if error in (None, "") and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        error = errors[0].get("code")
    return None if error in (None, "") else str(error)


def _attempt(value: object) -> str | int | float | None:
    if value in (None, ""):
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    return orjson.dumps(value).decode()  # no provider sends these; kept readable, not lost


def _keyword_facts(details: Mapping[str, Any]) -> dict[str, Any]:
    """Twilio's `OptOutType`, a tapped `choice` (any value marks one) and the typed text."""
    opt_out, choice = details.get("OptOutType"), details.get("choice")
    return {
        "opt_out": opt_out if isinstance(opt_out, str) else None,
        "choice": choice if isinstance(choice, str) or choice is None else str(choice),
        "text": _text(details, "Body", "body", "text"),
    }


def _group(details: Mapping[str, Any]) -> str | None:
    """`group` as written (what was published), else `group_name` (what consent also read)."""
    group = details.get("group")
    return group if isinstance(group, str) else _text(details, "group_name")


def facts_from_details(channel: Channel, status: str, details: Mapping[str, Any]) -> ProviderFacts:
    """The facts a report's `details` held under providers' wire names, read as the core read
    them before typed facts (for old records only: see above)."""
    url, reason, kind = details.get("url"), details.get("reason"), details.get("type")
    return ProviderFacts(
        contact=_contact(channel, details, status),
        group=_group(details) if status in _GROUP_EVENTS else None,
        link_url=url if isinstance(url, str) and status == "click" else None,
        error_code=_error_code(details),
        reason=reason if isinstance(reason, str) else None,
        bounce_type=kind if isinstance(kind, str) and status == "bounced" else None,
        attempt=_attempt(details.get("attempt")),
        **(_keyword_facts(details) if status in _INBOUND else {}),
    )


MESSAGE_EVENT_CLASSES: tuple[type[MessageEvent], ...] = (SendRecorded, Observed, DuplicateIgnored)
