"""The answers `engage` prints and the service's `/api/` routes send, built once.

Each function takes the application (or a view) and arguments already parsed, and gives back
plain dicts and lists, the JSON both ways out write: a verb prints it, a route answers it. So
the CLI and the HTTP API cannot drift apart; only how arguments are read (argparse or a query
string) and how a failure is told (an exit code or a status) differ, at each edge.

Failures an edge must tell apart are exceptions here: `InvalidInput` (from the core, naming
the field) for an argument that cannot be used, `NotFound` for a lookup that found nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from adapters.cli.render import message_json
from adapters.views import OutboxEntry, OutboxView
from adapters.views.base import ViewRebuilt
from engage_core import Channel, EngageApplication, ObserveResult, Send
from engage_core.consent.contacts import ContactKey, group_subscription_id, normalise_group_name
from engage_core.counts import Counts
from engage_core.quarantine import HeldEntry, HeldRequest
from engage_core.quarantine.listing import held_ids
from engage_core.suppression import Suppression, SuppressionAnswer, SuppressionPolicy

__all__ = [
    "NotFound",
    "can_send_answer",
    "contact_of",
    "event_json",
    "events_page",
    "held_answers",
    "held_ids_of",
    "held_json",
    "import_json",
    "lift_answer",
    "message_by_id",
    "message_by_provider_id",
    "record_send",
    "rederive_answer",
    "subscription_answer",
    "suppression_answer",
    "suppression_json",
]


class NotFound(LookupError):
    """Nothing matched; the message says what was looked for (`no message with …`)."""


# Messages


def message_by_id(app: EngageApplication, message_id: UUID) -> dict[str, Any]:
    """`engage message --id`: the message as JSON, or `NotFound`."""
    found = app.message(message_id)
    if found is None:
        raise NotFound(f"no message with id {message_id}")
    return message_json(found)


def message_by_provider_id(
    app: EngageApplication, channel: Channel, provider_message_id: str, provider: str | None
) -> dict[str, Any]:
    """`engage message --channel --provider-message-id [--provider]`: without a provider, the
    channel's usual ones are tried in order (`EngageApplication.find_message`)."""
    found = app.find_message(channel, provider_message_id, provider)
    if found is None:
        raise NotFound(
            f"no message with {channel.value} provider message id {provider_message_id!r}"
        )
    return message_json(found)


def record_send(app: EngageApplication, send: Send) -> tuple[ObserveResult, dict[str, Any]]:
    """Record a send (as a send line of a batch is: counted, a repeat a duplicate) and answer
    what the message is now. The counts are for whoever counts inputs (the service's metrics);
    the message is the answer."""
    result = app.observe([send])
    found = app.message(send.message_id)
    assert found is not None  # just saved
    return result, message_json(found)


# Consent


def contact_of(channel: str, key: str, groups: Iterable[str] = ()) -> ContactKey:
    """The contact vector a channel and key name, with each group checked as the core checks
    it (a group is for an email address only); `InvalidInput` naming what is wrong."""
    contact = ContactKey.parse(channel, key)
    for group in groups:
        normalise_group_name(group)
        group_subscription_id(contact, group)
    return contact


def subscription_answer(
    app: EngageApplication,
    contact: ContactKey,
    *,
    groups: list[str] | None = None,
    as_of: datetime | None = None,
    history: bool = False,
) -> dict[str, Any]:
    """`engage subscription`: the channel's status, each group's (every group ever seen when
    none is named), the user's STOP lock, the user ids, the suppression (null: none); with
    `history`, every update with its provenance and what it did."""
    found = app.subscription(contact, groups=groups, as_of=as_of)
    state = found.state
    answer: dict[str, Any] = {
        "channel": contact.channel.consent_name,
        "key": contact.key,
        "status": state.status.value if state.status else None,
        "groups": {
            name: group.status.value if group.status else None
            for name, group in found.groups.items()
        },
        "locked_by_user": state.locked_by_user,
        "user_ids": list(found.user_ids),
        "suppression": suppression_json(found.suppression),
    }
    if history:
        answer["history"] = list(_history(found.history))
    return answer


def _history(updates: Iterable[tuple[Any, Any]]) -> Iterator[dict[str, Any]]:
    before: str | None = None
    for update, verdict in updates:
        after = verdict.after.status.value if verdict.after.status else None
        provenance = update.provenance
        yield {
            "status": after, "previous_status": before, "outcome": verdict.outcome.value,
            "source": provenance.kind.value, "source_id": provenance.source_id,
            "effective_at": provenance.effective_at.isoformat(),
            "recorded_at": provenance.recorded_at.isoformat(),
            **({"user_id": provenance.user_id} if provenance.user_id else {}),
            # the time the source claimed, when the clock-skew policy clamped it
            **({"claimed_at": provenance.claimed_at.isoformat()}
               if provenance.claimed_at else {}),
        }  # fmt: skip
        before = after


def can_send_answer(
    app: EngageApplication, contact: ContactKey, *, group: str | None, transactional: bool
) -> dict[str, Any]:
    """`engage can-send`: a refusal is an answer (`allowed: false` with the reason)."""
    permission = app.can_send(contact, group=group, transactional=transactional)
    return {"allowed": permission.allowed, "reason": permission.reason}


# Suppression


def suppression_json(suppression: Suppression | None) -> dict[str, Any] | None:
    """A suppression as the answers show it (null: not suppressed)."""
    if suppression is None:
        return None
    return {"rule": suppression.rule.value, "reason": suppression.reason,
            "since": suppression.since.isoformat(), "policy": suppression.policy,
            "evidence": list(suppression.evidence)}  # fmt: skip


def _suppression_json(answer: SuppressionAnswer) -> dict[str, Any]:
    contact = answer.contact
    facts = [{"kind": f.kind.value, "occurred_at": f.occurred_at.isoformat(),
              "message_id": str(f.message_id), "event_id": f.event_id, "code": f.code}
             for f in answer.facts]  # fmt: skip
    lifts = [{"at": lift.at.isoformat(), "operator": lift.operator, "reason": lift.reason}
             for lift in answer.lifts]  # fmt: skip
    changes = [{"recorded_at": c.recorded_at.isoformat(), "cause": c.cause.value,
                "cause_id": c.cause_id, "policy": c.policy,
                "before": suppression_json(c.before), "after": suppression_json(c.after)}
               for c in answer.changes]  # fmt: skip
    return {"channel": contact.channel.consent_name, "key": contact.key,
            "suppressed": answer.suppression is not None,
            "suppression": suppression_json(answer.suppression), "policy": answer.policy,
            "facts": facts, "lifts": lifts, "history": changes}  # fmt: skip


def suppression_answer(app: EngageApplication, contact: ContactKey) -> dict[str, Any]:
    """`engage suppression show`: whether the contact is suppressed, why, under which policy,
    and what it was derived from (facts, lifts, every change with its cause)."""
    return _suppression_json(app.suppression(contact))


def lift_answer(
    app: EngageApplication, contact: ContactKey, *, reason: str, operator: str
) -> dict[str, Any]:
    """`engage suppression lift`: the suppression lifted (`lifted`, null when none held: the
    lift is recorded anyway and sets the facts before it aside), then the contact as `show`
    answers it. `InvalidInput` names a blank or overlong reason or operator."""
    result = app.lift_suppression(contact, reason=reason, operator=operator)
    return {"lifted": suppression_json(result.lifted), **_suppression_json(result.answer)}


def rederive_answer(app: EngageApplication, policy: SuppressionPolicy) -> dict[str, Any]:
    """`engage policies rederive`: every contact's suppression derived again under `policy`;
    the counts of contacts revisited and of answers changed (newly suppressed, released,
    restated under another reason or policy)."""
    return attrs.asdict(app.rederive_suppressions(policy))


def import_json(result: Counts) -> dict[str, int]:
    """`engage subscriptions import`: the row counts, which add up to `received`."""
    return attrs.asdict(result)


# The outbox and the quarantine


def event_json(entry: OutboxEntry) -> dict[str, Any]:
    """One published event as `engage events` prints it: its outbox position, then the
    Segment-spec track event."""
    return {"position": entry.position, **entry.body}


def events_page(outbox: OutboxView, since: int, limit: int) -> list[dict[str, Any]]:
    """At most `limit` published events after outbox position `since`, all from one build of
    the outbox (read again from `since` if it is rebuilt while being read). The outbox is
    caught up by the caller."""
    while True:
        generation = outbox.build().generation
        try:
            return [event_json(e) for e in outbox.read(since, limit, generation=generation)]
        except ViewRebuilt:
            continue


def held_json(entry: HeldEntry) -> dict[str, Any]:
    """One held request as `engage quarantine list` prints it: why it is held, how often it
    was held and retried, and what was kept of it (the body as text, or base64)."""
    held = entry.request
    size = {"body_size": held.body_size, "body_sha256": held.body_sha256,
            "truncated": held.truncated}  # fmt: skip
    return {
        "id": str(entry.id),
        "provider": held.provider,
        "received_at": held.received_at.isoformat(),
        "refused": entry.refused,
        "unauthenticated": entry.unauthenticated,
        "problems": [{"index": p.index, "reason": p.reason} for p in entry.problems],
        "times_held": entry.times_held,
        "retries": entry.retries,
        "released": entry.released,
        "last_retry_verified": entry.last_retry_verified,
        "url": held.url,
        "headers": dict(held.headers),
        **size,
        **_body_json(held),
    }


def _body_json(held: HeldRequest) -> dict[str, str]:
    """The kept body as text when it is UTF-8, else as base64. A prefix may end inside a
    character: up to three bytes of its end are left out of the text rather than show text
    bodies as base64."""
    for cut in range(4 if held.truncated else 1):
        try:
            return {"body": held.body[: len(held.body) - cut].decode("utf-8")}
        except UnicodeDecodeError:
            continue
    return {"body_base64": base64.b64encode(held.body).decode("ascii")}


def held_ids_of(app: EngageApplication) -> list[UUID]:
    """The id of every request ever held, oldest first: what `held_answers` pages over."""
    return list(held_ids(app.recorder))


def held_answers(
    app: EngageApplication, ids: Iterable[UUID], *, include_released: bool
) -> list[dict[str, Any]]:
    """`engage quarantine list [--all]` for these ids, in order: each entry still held (and,
    with `include_released`, each released one too). The service reads the listing a page of
    ids at a time, so a long quarantine of large bodies is never held whole."""
    entries = (app.held_entry(entry_id) for entry_id in ids)
    return [
        held_json(entry)
        for entry in entries
        if entry is not None and (include_released or not entry.released)
    ]
