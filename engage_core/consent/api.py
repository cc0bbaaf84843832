"""The Public API shape of consent changes, `{"subscriptions": [{key, type, status?, groups?}]}`,
judged item by item: each item becomes changes or a failure with its error code (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import DEFAULT_REGION, ContactKey, SubscriptionChannel
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.observations import InvalidInput

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
) -> ItemChanges | ItemFailure:
    """One `{key, type, status?, groups?}` item (the identify payload's items too)."""
    if not isinstance(item, Mapping):
        return ItemFailure({}, "INVALID_REQUEST", f"an item must be an object (got {item!r})")
    provenance = Provenance(kind, source_id, effective_at, recorded_at)
    try:
        contact = ContactKey.parse(
            SubscriptionChannel.parse(item.get("type")), item.get("key"), region
        )
        changes: list[ConsentChange] = []
        if item.get("status") is not None:
            status = SubscriptionStatus.parse(item["status"])
            changes.append(ChannelChange(contact, Update(status, provenance)))
        groups = item.get("groups") or []
        if groups and contact.channel is not SubscriptionChannel.EMAIL:
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
