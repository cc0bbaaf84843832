"""A contact's consent proof: every update of its channel and groups, with provenance, what each
did and its evidence, and a digest of it all, for a TCPA or GDPR request.

The document is built from the log (through any `events_of` reader), never from a view, so it
says what was recorded. Its `digest` is SHA-256 over the canonical JSON of everything but the
digest and the time it was made (keys sorted, no spaces, UTF-8): anyone holding the document
can recompute it, and two exports of the same history have the same digest, whenever made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.contacts import ContactKey, group_subscription_id
from engage_core.consent.evolve import fold_group
from engage_core.consent.queries import groups_of, subscription
from engage_core.consent.rules import (
    SubscriptionState,
    Update,
    Verdict,
    as_utc,
    replay_group,
)
from engage_core.ports import EventsOf

__all__ = ["PROOF_FORMAT", "consent_proof", "digest_of", "key_hash"]

PROOF_FORMAT = "engage.consent-proof/1"  # the document's shape, named in it


def key_hash(contact: ContactKey) -> str:
    """SHA-256 hex of the normalised contact key: who the proof is about, without saying it
    (the same hash Segment's events carry as `anonymousId`)."""
    return hashlib.sha256(contact.key.encode()).hexdigest()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _state(state: SubscriptionState) -> dict[str, Any]:
    return {
        "status": state.status.value if state.status is not None else None,
        "locked_by_user": state.locked_by_user,
        "since": _time(state.effective_at),
    }


def _entry(subscription_name: str | None, update: Update, verdict: Verdict,
           before: SubscriptionState) -> dict[str, Any]:  # fmt: skip
    """One update as the proof lists it: what was asked, by whom, meaning when, recorded when,
    with which evidence, and what it did."""
    p = update.provenance
    proof = p.proof
    return {
        "group": subscription_name,
        "requested": update.status.value,
        "locks": update.lock,  # the user's own opt-out, which no operator source overrides
        "unlocks": update.unlock,  # the user's own opt-in, which lifts such a lock
        "source": p.kind.value,
        "source_id": p.source_id,
        "effective_at": _time(p.effective_at),
        "recorded_at": _time(p.recorded_at),
        "claimed_at": _time(p.claimed_at),
        "user_id": p.user_id,
        "evidence": {
            "surface": proof.surface, "notice": proof.notice, "ip": proof.ip,
            "user_agent": proof.user_agent, "locale": proof.locale, "token_id": proof.token_id,
        } if proof is not None else None,
        "outcome": verdict.outcome.value,
        "error": verdict.error.value if verdict.error is not None else None,
        "before": _state(before),
        "after": _state(verdict.after),
    }  # fmt: skip


def _entries(name: str | None, replayed: Sequence[tuple[Update, Verdict]]) -> list[dict[str, Any]]:
    before = SubscriptionState()
    made = []
    for update, verdict in replayed:
        made.append(_entry(name, update, verdict, before))
        before = verdict.after
    return made


def consent_proof(
    events_of: EventsOf,
    contact: ContactKey,
    *,
    now: datetime,
    as_of: datetime | None = None,
    settings: ConsentSettings | None = None,
) -> dict[str, Any]:
    """The proof document of `contact` (as it stood at `as_of`, or now): its states as
    `subscription` answers them (with `settings`, a PENDING past its window is no state), every
    update of its channel and (for an email address) of each of its groups as recorded, in
    replay order, and the digest over them."""
    as_of = as_utc(as_of) if as_of is not None else None
    answer = subscription(events_of, contact, groups=(), as_of=as_of)  # groups: replayed below
    if settings is not None:
        answer = answer.lapsed(as_of or now, settings)
    channel_updates = [u for u, _ in answer.history]
    groups: dict[str, Any] = {}
    history = _entries(None, answer.history)
    names = groups_of(events_of, contact) if contact.channel is Channel.EMAIL else ()
    for name in names:
        found = fold_group(events_of(group_subscription_id(contact, name)))
        replayed = replay_group(found.updates if found else (), channel_updates, as_of=as_of)
        history += _entries(name, replayed)  # the group's state is where its replay ends
        groups[name] = _state(replayed[-1][1].after if replayed else SubscriptionState())
    history.sort(key=lambda e: (e["effective_at"], e["recorded_at"], e["group"] or ""))
    document: dict[str, Any] = {
        "format": PROOF_FORMAT,
        "channel": contact.channel.consent_name,
        "key": contact.key,
        "key_sha256": key_hash(contact),
        "as_of": _time(as_of),
        "state": _state(answer.state),
        "groups": groups,
        "user_ids": list(answer.user_ids),
        "history": history,
    }
    document["digest"] = digest_of(document)
    document["generated_at"] = now.isoformat()
    return document


def digest_of(document: dict[str, Any]) -> str:
    """SHA-256 hex over the canonical JSON of `document` without `digest` and `generated_at`."""
    kept = {k: v for k, v in document.items() if k not in ("digest", "generated_at")}
    return hashlib.sha256(orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)).hexdigest()
