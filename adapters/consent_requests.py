"""Consent requests, whichever way they come in: the Public API's `{"subscriptions": [...]}`
(to change, or to query) and Segment identify calls' `context.messaging_subscriptions`.

`engage subscriptions set|identify` and the web service's Public and Tracking APIs all call
these, so a request means the same thing and is answered the same way wherever it is sent.
Each function takes the application and the parsed request and returns plain values; it
prints nothing and reads no setting (limits are the caller's, checked before it calls).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from engage_core.channels import Channel
from engage_core.consent.api import ItemChanges, ItemFailure, read_identify_call, read_item
from engage_core.consent.contacts import ContactKey, group_subscription_id, normalise_group_name
from engage_core.consent.events import (
    awaits_confirmation,
    clamped,
    first_refusal,
    request_outcome,
)
from engage_core.consent.rules import SourceKind, SubscriptionState
from engage_core.counts import Counts
from engage_core.observations import InvalidInput

if TYPE_CHECKING:
    from engage_core import EngageApplication

__all__ = [
    "COUNTED_AS",
    "IdentifyResult",
    "RequestRefused",
    "apply_identify_calls",
    "identify_item_count",
    "query_subscriptions",
    "replace_subscriptions",
    "subscription_items",
]


class RequestRefused(ValueError):
    """A request refused whole (its shape is wrong): nothing of it was applied."""


def subscription_items(document: object) -> list[Any]:
    """The items of `{"subscriptions": [...]}`; `RequestRefused` for any other shape."""
    items = document.get("subscriptions") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise RequestRefused('expected {"subscriptions": [...]}')
    return items


def replace_subscriptions(
    app: EngageApplication, items: Sequence[object], *, request_id: str, now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Apply `{key, type, status?, groups?}` items as the Public API does, all in one save:
    `{"successes": [{…item, "outcome"}], "failures": [{…item, "errors": [{code, message}]}]}`.

    Each item's source id is `request_id`, its position and a digest of the item itself, so the
    same request sent again under the same id is recognised (every item a duplicate) and
    changes nothing, while a different request that reuses an id is a request of its own and
    applies: a reused key never swallows a change."""
    judged = [
        read_item(item, kind=SourceKind.API, source_id=_item_source_id(request_id, n, item),
                  effective_at=now, recorded_at=now)
        for n, item in enumerate(items)
    ]  # fmt: skip
    changes = [c for j in judged if isinstance(j, ItemChanges) for c in j.changes]
    events = iter(app.change_consent(changes))
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for item in judged:
        if isinstance(item, ItemFailure):
            failures.append(_failure(item.item, item.error_code, item.error_message))
            continue
        decided = [next(events) for _ in item.changes]
        refused = first_refusal(decided)
        if refused is None:  # a stale or repeated item is answered as such
            success = {**dict(item.item), "outcome": request_outcome(decided)}
            if awaits_confirmation(decided):  # the sender's cue to send the confirmation
                success["pending_confirmation"] = True
            successes.append(success)
        else:
            failures.append(_failure(item.item, refused.value, f"refused: {refused.value}"))
    return {"successes": successes, "failures": failures}


def _item_source_id(request_id: str, position: int, item: object) -> str:
    """`request_id:position:digest`, the digest over the item as sent (keys sorted), as a CSV
    row's source id carries its cells' digest."""
    try:
        content = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # not JSON-shaped: the item is refused anyway, its id only names it
        content = repr(item).encode("utf-8", "backslashreplace")
    return f"{request_id}:{position:06d}:{hashlib.sha256(content).hexdigest()[:12]}"


def _failure(item: Mapping[str, Any], code: str, message: str) -> dict[str, Any]:
    return {**dict(item), "errors": [{"code": code, "message": message}]}


def identify_item_count(calls: Iterable[object]) -> int:
    """How many items identify calls carry, counted before any is judged, for the item limit:
    a call without a `context.messaging_subscriptions` list counts as one."""
    total = 0
    for call in calls:
        context = call.get("context") if isinstance(call, dict) else None
        listed = context.get("messaging_subscriptions") if isinstance(context, dict) else None
        total += len(listed) if isinstance(listed, list) else 1
    return total


@attrs.frozen
class IdentifyResult:
    """What identify calls' items did: `counts` (`Counts` of the items, and `clamped`: how
    many had their time clamped by the clock-skew policy) and why each rejected item was."""

    counts: dict[str, int]
    rejections: tuple[tuple[str, str], ...]  # (error code, what was wrong), in item order


# a request's outcome (`request_outcome`, the API's words) as the counts name it
COUNTED_AS = {"applied": "applied", "stale": "late", "duplicate": "duplicates",
               "unchanged": "unchanged"}  # fmt: skip


def apply_identify_calls(
    app: EngageApplication, calls: Iterable[tuple[int, object]], *, now: datetime
) -> IdentifyResult:
    """Apply numbered identify calls' `context.messaging_subscriptions` in one save (each
    call's `messageId` as provenance, its `timestamp` as the effective time); `number` names
    a call in the reasons (its line, or its place in a batch)."""
    judged: list[ItemChanges | ItemFailure] = []
    for number, call in calls:
        judged.extend(read_identify_call(call, number, now))
    counts = dict.fromkeys(("applied", "unchanged", "duplicates", "late", "rejected"), 0)
    rejections: list[tuple[str, str]] = []
    clamped_items = 0
    changes = [c for j in judged if isinstance(j, ItemChanges) for c in j.changes]
    events = iter(app.change_consent(changes))
    for item in judged:
        if isinstance(item, ItemFailure):
            rejections.append((item.error_code, item.error_message))
            counts["rejected"] += 1
            continue
        decided = [next(events) for _ in item.changes]
        refused = first_refusal(decided)
        if refused is not None:
            rejections.append((refused.value, str(dict(item.item))))
            counts["rejected"] += 1
        else:
            counts[COUNTED_AS[request_outcome(decided)]] += 1
        clamped_items += clamped(decided)
    totals = {**Counts(received=len(judged), **counts).as_dict(), "clamped": clamped_items}
    return IdentifyResult(totals, tuple(rejections))


def query_subscriptions(
    app: EngageApplication, items: Sequence[object]
) -> dict[str, list[dict[str, Any]]]:
    """What holds for each `{key, type, groups?}` item, in the shape of Segment's batch query:
    `{"successes": [{key, type, status?, updatedAt?, groups}], "failures": [{key, type,
    errors}], "errors": []}`. `status` is absent for a contact nothing was ever set for;
    `groups` lists the address's groups (those named, when `groups` names some) that have a
    state, each `{name, id, status, updatedAt}`. Reads only."""
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for item in items:
        try:
            contact, groups = _query_item(item)
        except InvalidInput as error:
            given = item if isinstance(item, Mapping) else {}
            errors = [{"code": _code(error), "message": str(error)}]
            key, kind = _text(given.get("key")), _text(given.get("type"))
            failures.append({"key": key, "type": kind, "errors": errors})
            continue
        found = app.subscription(contact, groups=groups)
        answer: dict[str, Any] = {"key": contact.key, "type": contact.channel.consent_name,
                                  **_state(found.state)}  # fmt: skip
        answer["groups"] = [
            {"name": name, "id": str(group_subscription_id(contact, name)), **_state(state)}
            for name, state in found.groups.items()
            if state.status is not None
        ]
        successes.append(answer)
    return {"successes": successes, "failures": failures, "errors": []}


def _query_item(item: object) -> tuple[ContactKey, list[str] | None]:
    """The contact an item names and the groups it asks about (None: all the address has)."""
    if not isinstance(item, Mapping):
        raise InvalidInput("item", f"an item must be an object (got {item!r})")
    contact = ContactKey.parse(Channel.parse_consent(item.get("type")), item.get("key"))
    asked = item.get("groups")
    if asked is None:
        return contact, None
    if not isinstance(asked, list):
        raise InvalidInput("groups", f"a list of group names (got {asked!r})")
    names = [entry.get("name") if isinstance(entry, Mapping) else entry for entry in asked]
    groups = [normalise_group_name(name) for name in names]
    for name in groups:
        group_subscription_id(contact, name)  # groups are for email addresses only
    return contact, groups


def _state(state: SubscriptionState) -> dict[str, str]:
    if state.status is None:
        return {}
    at = {"updatedAt": state.effective_at.isoformat()} if state.effective_at else {}
    return {"status": state.status.value, **at}


_CODES = {"email": "INVALID_EMAIL", "phone": "INVALID_PHONE"}


def _code(error: InvalidInput) -> str:
    return _CODES.get(error.field, "INVALID_REQUEST")


def _text(value: object) -> str:
    """A request's value as text, as given (what is not a string, as its JSON)."""
    if value is None or isinstance(value, str):
        return value or ""
    return orjson.dumps(value, default=repr).decode()
