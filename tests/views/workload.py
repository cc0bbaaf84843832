"""Seeded workloads for the views: the simulation's message traffic, given the details providers
really send (error codes, reasons, URLs, groups, STOP and START texts) and full send records,
interleaved with operator consent changes whose effective times arrive out of order.

The same seed gives the same batches; a report and its resent copy get the same details (they
are decorated by a seed of their own identity), so a copy stays a duplicate.

With `odd`, the texts a user or an operator chooses (campaign names, subjects, journeys, user
ids, group names) sometimes hold characters a database may treat apart: NUL (which
PostgreSQL's TEXT refuses), \x01 (which escapes of it use), DEL and non-ASCII letters.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from engage_core import Channel, EngageApplication, Observation, Send
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import (
    INPUT_STATUSES,
    OPERATOR_SOURCES,
    Provenance,
    SourceKind,
    SubscriptionStatus,
    Update,
)
from engage_core.simulation import simulate

START = datetime(2026, 1, 1, tzinfo=UTC)
GROUPS = ("Newsletter", "Offers", "10")
_URLS = ("https://example.com/a", "https://example.com/b?c=1")
_TEXTS = ("STOP", "start", "hello", "YES", " stop ", "UNSTOP", "Quit")
ODD = ("\x00", "a\x00", "\x01", "\x01\x01", "\x00\x01\x02", "\x7f", "é", "\x00é")
Batch = Sequence[Observation | Send] | Sequence[ConsentChange]


def _index(provider_message_id: str) -> int:
    """The simulation's message index, inside its provider message ids (`TW00000042abcdef`)."""
    return int(provider_message_id[2:10])


def phone(index: int) -> str:
    return f"+1555{index:07d}"


def email(index: int) -> str:
    return f"user{index}@example.com"


def _details(item: Observation, rng: random.Random) -> dict[str, object]:
    """What the provider would have said besides the status."""
    n = _index(item.provider_message_id)
    status, details = item.status, dict(item.details)
    if item.channel is Channel.EMAIL:
        details["email"] = email(n)
        extra: dict[str, dict[str, object]] = {
            "click": {"url": rng.choice(_URLS)},
            "bounced": {"type": rng.choice(["bounce", "blocked"]), "reason": "550 no mailbox"},
            "dropped": {"reason": "Bounced Address"},
            "deferred": {"response": "400 try again later", "attempt": str(rng.randint(1, 5))},
            "delivered": {"response": "250 OK"} if rng.random() < 0.5 else {},
            "group_unsubscribe": {"group": rng.choice(GROUPS)},
            "group_resubscribe": {"group": rng.choice(GROUPS)},
        }
        details.update(extra.get(status, {}))
    elif status in {"receiving", "received"}:
        prefix = "whatsapp:" if item.channel is Channel.WHATSAPP else ""
        details.update(From=prefix + phone(n), Body=rng.choice(_TEXTS))
    else:
        if item.provider == "meta":
            details["recipient_id"] = phone(n)[1:]
            if status == "failed":
                details["errors"] = [{"code": 131050, "title": "user stopped marketing"}]
        else:
            prefix = "whatsapp:" if item.channel is Channel.WHATSAPP else ""
            details["To"] = prefix + phone(n)
            if status in {"failed", "undelivered"}:
                details["ErrorCode"] = rng.choice(["30003", "30005", 30007])
    return details


def _odd(text: str, rng: random.Random, odd: bool) -> str:
    """`text`, or with `odd` now and then with an odd character in it (never at either end:
    a send record's texts are stripped)."""
    if not odd or rng.random() < 0.5:
        return text
    cut = rng.randrange(1, len(text))
    return f"{text[:cut]}{rng.choice(ODD)}{text[cut:]}"


def _decorated(item: Observation | Send, seed: int, odd: bool = False) -> Observation | Send:
    rng = random.Random(f"{seed}/{item.provider_message_id}/{item.dedup_keys}")
    if isinstance(item, Send):
        sent = attrs.evolve(
            item,
            campaign_name=f"Campaign {item.campaign_id}" if rng.random() < 0.7 else None,
            journey_id=f"journey-{rng.randrange(3)}" if rng.random() < 0.5 else None,
            template_id=f"template-{rng.randrange(4)}" if rng.random() < 0.5 else None,
            email_subject="Hello" if item.channel is Channel.EMAIL else None,
        )
        if not odd:
            return sent
        texts = ("campaign_id", "campaign_name", "journey_id", "email_subject", "user_id")
        return attrs.evolve(sent, **{
            field: _odd(value, rng, odd) for field in texts
            if (value := getattr(sent, field)) is not None and len(value) > 1
        })  # fmt: skip
    return attrs.evolve(item, details=_details(item, rng))


def _contacts(rng: random.Random, people: int) -> list[ContactKey]:
    keys = [ContactKey.parse("EMAIL", email(n)) for n in range(people)]
    keys += [
        ContactKey.parse(kind, phone(n)) for n in range(people) for kind in ("SMS", "WHATSAPP")
    ]
    rng.shuffle(keys)
    return keys


def consent_changes(
    rng: random.Random, count: int, people: int, odd: bool = False, *, group_changes: bool = True
) -> list[ConsentChange]:
    """Operator and user changes of a few people's channels and groups, effective at times that
    arrive in no particular order, some repeating a source id (duplicates): STOPs and STARTs,
    preference-center opt-outs that lock a channel or a group and subscribes that lift them,
    and operators' PENDING (double opt-in) requests."""
    groups = GROUPS + tuple(_odd(group, rng, odd) for group in GROUPS) if odd else GROUPS
    contacts = _contacts(rng, people)
    changes: list[ConsentChange] = []
    # the newer kinds of change draw from their own generator, so `rng` draws what it always
    # drew and every seed chosen for what it makes (a re-judged group, say) still makes it
    extra = random.Random(rng.getstate()[1][0])
    for _ in range(count):
        contact = rng.choice(contacts)
        kind = rng.choice(list(SourceKind))
        status: SubscriptionStatus = rng.choice(INPUT_STATUSES)
        at = START + timedelta(minutes=rng.randrange(600), microseconds=rng.randrange(3))
        lock = unlock = False
        if kind is SourceKind.KEYWORD:
            lock = rng.random() < 0.5
            unlock = not lock
            status = SubscriptionStatus.UNSUBSCRIBED if lock else SubscriptionStatus.SUBSCRIBED
        elif kind is SourceKind.PREFERENCE_CENTER:  # the contact's own choice (`user_choices`)
            lock = extra.random() < 0.6
            unlock = not lock
            status = SubscriptionStatus.UNSUBSCRIBED if lock else SubscriptionStatus.SUBSCRIBED
        elif (
            kind in OPERATOR_SOURCES
            and status is SubscriptionStatus.SUBSCRIBED
            and extra.random() < 0.3  # on a channel that needs confirmation (`confirming`)
        ):
            status = SubscriptionStatus.PENDING
        user = f"user-{rng.randrange(people)}" if rng.random() < 0.3 else None
        if user is not None and odd:
            user = _odd(user, rng, odd)
        provenance = Provenance(kind, f"{kind.value}-{rng.randrange(60)}", at,
                                at + timedelta(hours=1), user)  # fmt: skip
        update = Update(status, provenance, lock, unlock)
        grouped = group_changes and contact.channel is Channel.EMAIL and rng.random() < 0.5
        own_group_choice = kind is SourceKind.PREFERENCE_CENTER
        pending = status is SubscriptionStatus.PENDING
        if grouped and (own_group_choice or not (lock or unlock)) and not pending:
            changes.append(GroupChange(contact, rng.choice(groups), update=update))
        else:
            changes.append(ChannelChange(contact, update))
    return changes


def workload(
    seed: int,
    messages: int = 30,
    changes: int = 30,
    people: int = 4,
    *,
    odd: bool = False,
    group_changes: bool = True,
) -> list[Batch]:
    """Batches of message inputs and of consent changes, interleaved, in arrival order (with
    `odd`, odd characters in chosen texts: see the module's docstring)."""
    rng = random.Random(seed)
    traffic = [_decorated(item, seed, odd) for item in simulate(seed, messages).inputs]
    consent = consent_changes(rng, changes, people, odd, group_changes=group_changes)
    batches: list[Batch] = []
    while traffic or consent:
        if traffic and (not consent or rng.random() < 0.6):
            size = rng.randint(1, 25)
            batches.append(traffic[:size])
            traffic = traffic[size:]
        else:
            size = rng.randint(1, 8)
            batches.append(consent[:size])
            consent = consent[size:]
    return batches


def apply(app: EngageApplication, batch: Batch) -> None:
    """One batch, as one save."""
    if batch and isinstance(batch[0], ChannelChange | GroupChange):
        app.change_consent([c for c in batch if isinstance(c, ChannelChange | GroupChange)])
    else:
        app.observe([i for i in batch if isinstance(i, Observation | Send)])
