"""A contact's own choices, made through a signed link (the preference page, a one-click
unsubscribe, a double opt-in confirmation), as the consent changes that record them.

Each is the user's own act (source `preference_center`): an opt-out locks the channel or group
against every operator source, as a STOP does, and a subscribe lifts that lock, so no CSV row,
API call or identify can undo what the contact chose for themselves. The changes carry the
choice's evidence (`Proof`: the page, the link's token id, IP, user agent, locale, notice).

Only what differs from what holds is recorded: a page posted back unchanged records nothing,
except an opt-out the contact confirms over an operator's (their own answer, which locks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.evidence import Proof
from engage_core.consent.rules import (
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
)
from engage_core.observations import InvalidInput

__all__ = ["CHANNEL", "user_choices", "user_confirmation"]

CHANNEL: None = None  # the key of the channel's own choice among a contact's choices

_ALLOWED = (SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED)


def user_choices(
    contact: ContactKey,
    wanted: Mapping[str | None, SubscriptionStatus],
    current: Mapping[str | None, SubscriptionState],
    *,
    source_id: str,
    at: datetime,
    proof: Proof | None = None,
    user_id: str | None = None,
) -> list[ConsentChange]:
    """The changes that make `wanted` hold for `contact`: `wanted[CHANNEL]` the channel's
    choice, `wanted[group]` a group's (email only); `current` what holds now, by the same keys.

    `source_id` names this one act (a page submission, a one-click request): the same id again
    is a duplicate, so a mail client posting a one-click twice records it once. The channel's
    change comes first, so the groups' are judged against the channel the contact chose."""
    if contact.channel is not Channel.EMAIL and any(g is not CHANNEL for g in wanted):
        raise InvalidInput("group", "only an email address has groups")
    provenance = Provenance(SourceKind.PREFERENCE_CENTER, source_id, at, at, user_id, proof=proof)
    changes: list[ConsentChange] = []
    for group in sorted(wanted, key=lambda g: (g is not CHANNEL, g or "")):
        status = wanted[group]
        if status not in _ALLOWED:
            raise InvalidInput(
                "status", f"a contact chooses SUBSCRIBED or UNSUBSCRIBED, not {status.value}"
            )
        if not _changes(current.get(group, _NONE), status):
            continue
        opt_out = status is SubscriptionStatus.UNSUBSCRIBED
        update = Update(status, provenance, lock=opt_out, unlock=not opt_out)
        if group is CHANNEL:
            changes.append(ChannelChange(contact, update))
        else:
            changes.append(GroupChange(contact, group, update=update))
    return changes


_NONE = SubscriptionState()


def _changes(state: SubscriptionState, wanted: SubscriptionStatus) -> bool:
    """Whether choosing `wanted` changes anything: another status, or an opt-out that is not
    yet the contact's own (an operator's UNSUBSCRIBED, which an operator could undo)."""
    if state.status is not wanted:
        return True
    return wanted is SubscriptionStatus.UNSUBSCRIBED and not state.locked_by_user


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
