"""The outbox's reading of a provider report (`Observed`) straight from its stored JSON: the same
decision and the same Segment JSON as the core's publisher (`engage_core.segment.publisher`,
`mapping.message_events`), without building the typed event, a `TrackEvent` and a cattrs
unstructuring per published row.

Reports are most of a log, and each publishes at most one row whose shape is fixed: so the row
is built here as the dict `TrackEvent.as_segment` gives (the same keys in the same order: the
id cattrs may omit comes last) and
serialised with orjson, byte for byte what the typed path writes (a property test holds the
two paths equal, old stored versions included). Everything else (send records, consent
updates) goes through the typed path, which stays the definition.

A report whose time carries no zone has no fast row: the typed path refuses it, as it did.
Only the stock `EventSettings` class is read here (`fast_settings`); a subclass takes the
typed path, since it may name or describe events otherwise.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from adapters.views.message_facts import LIMIT, channel_of, moment_of
from adapters.views.records import Record
from engage_core import LIFECYCLES
from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.observations import InvalidInput, Send
from engage_core.segment import EventSettings
from engage_core.segment.publisher import Published

__all__ = ["Row", "Typed", "fast_settings", "observed_rows"]

Row = tuple[str, str, bytes]  # (messageId, event name, Segment JSON)


class Typed(Exception):
    """This record takes the typed path (its JSON has a shape the fast path does not read)."""


_PUBLISHED = frozenset({"applied", "late", "conflict"})
_OUTCOMES = frozenset({*_PUBLISHED, "duplicate"})
_SEND_FIELDS = ("campaign_id", "campaign_name", "journey_id", "template_id", "email_subject")
_INBOUND = frozenset({"received", "receiving"})
_GROUP_EVENTS = frozenset({"group_unsubscribe", "group_resubscribe"})
_NAMES: dict[tuple[Channel, str, EventSettings], object] = {}  # -> event name, or none
_CONTACTS: dict[tuple[Channel, str], object] = {}  # (channel, raw) -> anonymousId, or none
_CONTEXTS: dict[EventSettings, dict[str, Any]] = {}


_UNSEEN = object()  # no entry: a cached None means "no name" / "no contact"


def fast_settings(settings: EventSettings) -> bool:
    """Whether the fast rows may stand for the publisher's under `settings`: only the stock
    class, whose `name` and `context` this module reproduces (a subclass may change either,
    and then the typed path, which calls them, is followed)."""
    return type(settings) is EventSettings


def _name(channel: Channel, status: str, settings: EventSettings) -> str | None:
    """The event name a report of `status` publishes under (None: Segment names none).
    Cached by the settings themselves, so two outboxes with different settings never share
    a name; `.get` since another thread's outbox may clear the cache between two reads."""
    key = (channel, status, settings)
    found = _NAMES.get(key, _UNSEEN)
    if found is _UNSEEN:
        rules = LIFECYCLES[channel]
        if rules.is_engagement(status):
            name = rules.engagement_names.get(status)
        else:
            name = rules.event_names.get(status)
        found = settings.name(name) if name else None
        if len(_NAMES) >= LIMIT:
            _NAMES.clear()
        _NAMES[key] = found
    return found if found is None else str(found)


def _anonymous(channel: Channel, raw: str) -> str | None:
    """SHA-256 hex of the contact key `raw` normalises to; None when it is no contact."""
    key = (channel, raw)
    cached = _CONTACTS.get(key, _UNSEEN)  # `.get`: another thread may clear it meanwhile
    if cached is not _UNSEEN:
        return cached if cached is None else str(cached)
    try:
        found: str | None = hashlib.sha256(ContactKey.parse(channel, raw).key.encode()).hexdigest()
    except InvalidInput:
        found = None
    if len(_CONTACTS) >= LIMIT:
        _CONTACTS.clear()
    _CONTACTS[key] = found
    return found


def _who(record: Record, channel: Channel, status: str, facts: dict[str, Any],
         send: Send | None) -> tuple[str, str]:  # fmt: skip
    """("userId", id) or ("anonymousId", id), as `mapping._who` decides them."""
    if send is not None and send.user_id:
        return "userId", send.user_id
    sent_to = send.to if send is not None and status not in _INBOUND else None
    for raw in (sent_to, facts.get("contact")):
        if raw is not None and raw.strip():
            found = _anonymous(channel, raw.strip())
            if found is not None:
                return "anonymousId", found
    return "anonymousId", hashlib.sha256(bytes.fromhex(record.hex)).hexdigest()


def _facts(status: str, given: dict[str, Any], properties: dict[str, Any]) -> None:
    """The report's own facts into its properties, as `mapping._facts` names them."""
    link_url, error_code = given.get("link_url"), given.get("error_code")
    reason, bounce_type = given.get("reason"), given.get("bounce_type")
    attempt, group = given.get("attempt"), given.get("group")
    if status == "click" and link_url is not None:
        properties["link_url"] = link_url
    if error_code is not None and error_code != "":
        properties["error_code"] = error_code
    if reason is not None:
        properties["reason"] = reason
    if status == "bounced" and bounce_type is not None:
        properties["bounce_type"] = bounce_type
    if attempt is not None and attempt != "":
        properties["attempt"] = attempt
    if status in _GROUP_EVENTS and group is not None:
        properties["group"] = group
    if status in {"open", "machine_open"}:
        properties["machine_open"] = status == "machine_open"


def _context(settings: EventSettings) -> dict[str, Any]:
    found = _CONTEXTS.get(settings)
    if found is None:
        found = _CONTEXTS[settings] = settings.context()
    return found


def observed_rows(
    memory: Published, record: Record, settings: EventSettings
) -> tuple[Published, list[Row]]:
    """The message's memory after a report and the rows it publishes (`publisher.publish`
    of the typed event, as rows). `Typed` when the report must take the typed path."""
    state = record.state
    outcome, status = state["outcome"], state["status"]
    if outcome not in _OUTCOMES:
        raise Typed("an outcome the typed path names as unreadable")
    if outcome not in _PUBLISHED or (status == "processed" and memory.processed):
        return memory, []
    channel = channel_of(state["channel"])
    name = _name(channel, status, settings)
    if name is None:
        return memory, []
    moment = moment_of(state["occurred_at"] or state["recorded_at"])
    if moment.tzinfo is None:
        raise Typed("a time with no zone")
    send = memory.send
    properties: dict[str, Any] = {
        "message_id": record.key,
        "channel": channel.value,
        "provider": state["provider"],
        "provider_message_id": state["provider_message_id"],
        "status": state["status_after"],
    }
    if send is not None:
        for field in _SEND_FIELDS:
            value = getattr(send, field)
            if value is not None:
                properties[field] = value
    properties["reported_status"] = status
    properties["outcome"] = outcome
    facts = state.get("facts") or {}
    _facts(status, facts, properties)
    who, identity = _who(record, channel, status, facts, send)
    message_id = f"engage-{record.hex}-{record.version}"
    body = {
        "type": "track",
        "event": name,
        "messageId": message_id,
        "timestamp": moment.isoformat(),
        "context": _context(settings),
        "properties": properties,
        who: identity,  # last, as cattrs adds a field it may omit
    }
    if status == "processed" and not memory.processed:
        memory = Published(send, True)
    return memory, [(message_id, name, orjson.dumps(body))]
