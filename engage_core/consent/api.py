"""The Public API shape of consent changes, `{"subscriptions": [{key, type, status?, groups?}]}`,
judged item by item: each item becomes changes or a failure with its error code (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import orjson

from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import DEFAULT_REGION, ContactKey
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.observations import InvalidInput, parse_timestamp

__all__ = [
    "ItemChanges",
    "ItemFailure",
    "read_identify_call",
    "read_item",
]


_CODES = {
    "email": "INVALID_EMAIL",
    "phone": "INVALID_PHONE",
    "status": "INVALID_SUBSCRIPTION_STATUS",
}


@attrs.frozen
class ItemFailure:
    item: Mapping[str, Any]
    error_code: str
    error_message: str


@attrs.frozen
class ItemChanges:
    item: Mapping[str, Any]
    changes: tuple[ConsentChange, ...]


def read_item(
    item: object,
    *,
    kind: SourceKind,
    source_id: str,
    effective_at: datetime,
    recorded_at: datetime,
    region: str = DEFAULT_REGION,
    user_id: str | None = None,
) -> ItemChanges | ItemFailure:
    """One `{key, type, status?, groups?}` item (the identify payload's items too)."""
    if not isinstance(item, Mapping):
        return ItemFailure({}, "INVALID_REQUEST", f"an item must be an object (got {item!r})")
    provenance = Provenance(kind, source_id, effective_at, recorded_at, user_id)
    try:
        contact = ContactKey.parse(Channel.parse_consent(item.get("type")), item.get("key"), region)
        changes: list[ConsentChange] = []
        if item.get("status") is not None:
            status = SubscriptionStatus.parse(item["status"])
            changes.append(ChannelChange(contact, Update(status, provenance)))
        groups = item.get("groups") or []
        if groups and contact.channel is not Channel.EMAIL:
            raise InvalidInput("groups", "groups are for EMAIL subscriptions only")
        if not isinstance(groups, list):
            raise InvalidInput("groups", f"a list of {{name, status}} (got {groups!r})")
        for group in groups:
            if not isinstance(group, Mapping):
                raise InvalidInput("groups", f"a group must be {{name, status}} (got {group!r})")
            status = SubscriptionStatus.parse(group.get("status"))
            changes.append(
                GroupChange(contact, group.get("name"), update=Update(status, provenance))
            )
    except InvalidInput as error:
        code = _CODES.get(error.field, "INVALID_REQUEST")
        return ItemFailure(item, code, str(error))
    return ItemChanges(item, tuple(changes))


def read_identify_call(
    call: object, number: int, now: datetime, *, region: str = DEFAULT_REGION
) -> list[ItemChanges | ItemFailure]:
    """One Segment identify call's `context.messaging_subscriptions`: each item with the call's
    `messageId` (and the item's position) as its source id, the call's `timestamp` as its
    effective time, and its `userId` linking the contact to that user. `number` names the call
    in messages (its line in a JSON Lines stream)."""
    if not isinstance(call, Mapping):
        return [ItemFailure({}, "INVALID_REQUEST", f"call {number}: not a JSON object")]
    context = call.get("context")
    items = context.get("messaging_subscriptions") if isinstance(context, Mapping) else None
    if not isinstance(items, list):
        reason = f"call {number}: no context.messaging_subscriptions list"
        return [ItemFailure({}, "INVALID_REQUEST", reason)]
    message_id = call.get("messageId")
    if not (isinstance(message_id, str) and message_id.strip()):
        # without one, the call itself is the source: the same call again is a duplicate
        message_id = "identify-" + hashlib.sha256(orjson.dumps(call, option=orjson.OPT_SORT_KEYS)
                                                  ).hexdigest()[:32]  # fmt: skip
    user_id = call.get("userId")
    if user_id is not None and not (isinstance(user_id, str) and user_id.strip()):
        return [ItemFailure({}, "INVALID_REQUEST", f"call {number}: userId must be a string")]
    try:
        effective = (
            parse_timestamp(call["timestamp"], "timestamp") if call.get("timestamp") else now
        )
    except InvalidInput as error:
        return [ItemFailure({}, "INVALID_REQUEST", f"call {number}: {error}")]
    return [
        read_item(item, kind=SourceKind.IDENTIFY, source_id=f"{message_id.strip()}:{n:06d}",
                  effective_at=effective, recorded_at=now, region=region,
                  user_id=user_id.strip() if user_id else None)
        for n, item in enumerate(items)
    ]  # fmt: skip
