"""A contact's own choices, made through a signed link (the preference page, a one-click
unsubscribe, a double opt-in confirmation), as the consent changes that record them.

Each is the user's own act (source `preference_center`): an opt-out locks the channel or group
against every operator source, as a STOP does, and a subscribe lifts that lock, so no CSV row,
API call or identify can undo what the contact chose for themselves. The changes carry the
choice's evidence (`Proof`: the page, the link's token id, IP, user agent, locale, notice).

Every choice is recorded, even one that already holds (`user_choices` says why); a confirmation
subscribes only onto a PENDING, judged where it replays (`user_confirmation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.evidence import Proof
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.observations import InvalidInput

__all__ = ["CHANNEL", "user_choices", "user_confirmation"]

CHANNEL: None = None  # the key of the channel's own choice among a contact's choices

_ALLOWED = (SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED)


def user_choices(
    contact: ContactKey,
    wanted: Mapping[str | None, SubscriptionStatus],
    *,
    source_id: str,
    at: datetime,
    proof: Proof | None = None,
    user_id: str | None = None,
) -> list[ConsentChange]:
    """The changes that record `wanted` for `contact`: `wanted[CHANNEL]` the channel's choice,
    `wanted[group]` a group's (email only).

    Every choice is recorded, even one that holds already: whether the contact's answer holds
    in the end must not depend on which operator updates happened to arrive before it (one
    effective earlier and arriving later is replayed before it either way), and the record is
    the evidence of what they chose. One that changes nothing publishes nothing.
    `source_id` names this one act (a page submission, a one-click request): the same id again
    is a duplicate. The channel's change comes first, so the groups' are judged against the
    channel the contact chose."""
    if contact.channel is not Channel.EMAIL and any(g is not CHANNEL for g in wanted):
        raise InvalidInput("group", "only an email address has groups")
    provenance = Provenance(SourceKind.PREFERENCE_CENTER, source_id, at, at, user_id, proof=proof)
    changes: list[ConsentChange] = []
    for group in sorted(wanted, key=lambda g: (g is not CHANNEL, g or "")):
        status = wanted[group]
        if status not in _ALLOWED:
            raise InvalidInput("status", f"a contact chooses SUBSCRIBED or UNSUBSCRIBED: {status}")
        opt_out = status is SubscriptionStatus.UNSUBSCRIBED
        update = Update(status, provenance, lock=opt_out, unlock=not opt_out)
        if group is CHANNEL:
            changes.append(ChannelChange(contact, update))
        else:
            changes.append(GroupChange(contact, group, update=update))
    return changes


def user_confirmation(
    contact: ContactKey,
    *,
    source_id: str,
    at: datetime,
    proof: Proof | None = None,
    user_id: str | None = None,
) -> ChannelChange:
    """The contact's double opt-in confirmation: SUBSCRIBED only onto a PENDING, else nothing,
    judged where it replays (`Update.confirms_only`). Recorded whatever holds when it arrives,
    so a late opt-out or operator change effective before it decides it as it would have had
    it arrived first, and the confirmation itself is never lost."""
    provenance = Provenance(SourceKind.PREFERENCE_CENTER, source_id, at, at, user_id, proof=proof)
    return ChannelChange(
        contact, Update(SubscriptionStatus.SUBSCRIBED, provenance, confirms_only=True)
    )
