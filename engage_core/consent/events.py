"""The persisted facts of a channel subscription: one event per update received.

Each records the update itself (status, provenance, lock) and what its arrival did (outcome,
error code, the state before and after), which is what the downstream `Channel Subscription
Updated` event needs. The state itself is always the replay of the updates (see `rules.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import attrs

from engage_core.channels import Channel
from engage_core.consent.rules import (
    ConsentOutcome,
    ErrorCode,
    SubscriptionState,
    SubscriptionStatus,
    Update,
)
from engage_core.events import DomainEvent

__all__ = [
    "ANSWERS",
    "CONSENT_EVENT_CLASSES",
    "ChannelUpdateDuplicated",
    "ChannelUpdateRecorded",
    "ConsentEvent",
    "GroupListed",
    "GroupStateRejudged",
    "GroupUpdateDuplicated",
    "GroupUpdateRecorded",
    "awaits_confirmation",
    "changed_anything",
    "clamped",
    "first_refusal",
    "request_outcome",
]


@attrs.frozen(kw_only=True)
class ConsentEvent(DomainEvent):
    """Fields every consent event has: the contact vector, and the update it records."""

    # v2: the update says whether it only unlocks (`unlock_only`) and, when its time was
    # clamped by the clock-skew policy, the time its source claimed (`provenance.claimed_at`)
    # v3: stored compact, without what reading fills back (`engage_core.consent.stored`)
    # v4: the update's provenance may carry its evidence (`proof`), a status be PENDING, and
    # an update be a double opt-in confirmation (`confirms_only`)
    class_version: ClassVar[int] = 4

    channel: Channel  # stored as its consent name (`EMAIL`), see `engage_core.serialisation`
    key: str
    update: Update

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        update = state["update"]
        update.setdefault("unlock_only", False)
        update["provenance"].setdefault("claimed_at", None)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Nothing to change: the full form version 2 stored is a valid compact form (reading
        fills back only what a compact event left out)."""

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """An event from before proofs had none, and confirmed nothing."""
        state["update"]["provenance"].setdefault("proof", None)
        state["update"].setdefault("confirms_only", False)


@attrs.frozen(kw_only=True)
class ChannelUpdateRecorded(ConsentEvent):
    """An update was accepted into the subscription's history, with what its arrival did."""

    TOPIC: ClassVar[str] = "engage.consent.ChannelUpdateRecorded"

    outcome: ConsentOutcome
    error: ErrorCode | None
    before: SubscriptionState
    after: SubscriptionState


@attrs.frozen(kw_only=True)
class ChannelUpdateDuplicated(ConsentEvent):
    """The same update (same source and source id) again: kept, changes nothing. `error` is the
    refusal that update stands under now, if any, so a re-imported row that was refused is
    reported failed again rather than "unchanged"."""

    TOPIC: ClassVar[str] = "engage.consent.ChannelUpdateDuplicated"

    error: ErrorCode | None = None


@attrs.frozen(kw_only=True)
class GroupUpdateRecorded(ConsentEvent):
    """An update of an address's subscription to one group (`channel` is EMAIL, `key` the
    address), with what its arrival did."""

    TOPIC: ClassVar[str] = "engage.consent.GroupUpdateRecorded"

    group: str
    outcome: ConsentOutcome
    error: ErrorCode | None
    before: SubscriptionState
    after: SubscriptionState


@attrs.frozen(kw_only=True)
class GroupUpdateDuplicated(ConsentEvent):
    """The same group update again (same source kind and id): recorded, changes nothing."""

    TOPIC: ClassVar[str] = "engage.consent.GroupUpdateDuplicated"

    group: str
    error: ErrorCode | None = None  # as on ChannelUpdateDuplicated


@attrs.frozen(kw_only=True)
class GroupStateRejudged(ConsentEvent):
    """A group subscription's state changed because a channel update arrived that replays
    before some of the group's own updates (a group change is judged against the channel as it
    stood then): `update` is that channel update, the cause. Recorded so the change is a fact
    downstream too, not only something a replay would show."""

    TOPIC: ClassVar[str] = "engage.consent.GroupStateRejudged"

    group: str
    before: SubscriptionState
    after: SubscriptionState


@attrs.frozen(kw_only=True)
class GroupListed(DomainEvent):
    """An address got its first update for a group (whatever that update's outcome): the
    group directory's one event, saved with that update."""

    TOPIC: ClassVar[str] = "engage.consent.GroupListed"

    channel: Channel
    key: str
    group: str


CONSENT_EVENT_CLASSES: tuple[type[ConsentEvent], ...] = (
    ChannelUpdateRecorded,
    ChannelUpdateDuplicated,
    GroupUpdateRecorded,
    GroupUpdateDuplicated,
    GroupStateRejudged,
)

# The events that answer one requested change each (the rest follow from them).
ANSWERS: tuple[type[ConsentEvent], ...] = (
    ChannelUpdateRecorded,
    ChannelUpdateDuplicated,
    GroupUpdateRecorded,
    GroupUpdateDuplicated,
)

# (tuples, not `A | B`: a union is built anew at every evaluation, and these run per row)
_RECORDED = (ChannelUpdateRecorded, GroupUpdateRecorded)
_DUPLICATED = (ChannelUpdateDuplicated, GroupUpdateDuplicated)


def first_refusal(events: Iterable[ConsentEvent]) -> ErrorCode | None:
    """The error code of the first refused update among `events`, if any: what a row or an
    API item that asked for them failed with."""
    for event in events:
        if (
            isinstance(event, _RECORDED)
            and event.outcome is ConsentOutcome.REFUSED
            and event.error is not None
        ):
            return event.error
        if isinstance(event, _DUPLICATED) and event.error:
            return event.error
    return None


def changed_anything(events: Iterable[ConsentEvent]) -> bool:
    """Whether any of `events` changed a subscription's state."""
    return any(isinstance(event, _RECORDED) and event.before != event.after for event in events)


def request_outcome(events: Iterable[ConsentEvent]) -> str:
    """What a request's changes came to, in one word an API or CLI answers with: `applied`
    (some state changed), `stale` (older than what holds: recorded, nothing changed),
    `duplicate` (seen before) or `unchanged` (what held already). Refusals are answered
    apart (`first_refusal`)."""
    decided = list(events)
    if changed_anything(decided):
        return "applied"
    recorded = (e for e in decided if isinstance(e, _RECORDED))
    if any(e.outcome is ConsentOutcome.STALE for e in recorded):
        return "stale"
    if decided and all(isinstance(e, _DUPLICATED)
                       for e in decided):  # fmt: skip
        return "duplicate"
    return "unchanged"


def awaits_confirmation(events: Iterable[ConsentEvent]) -> bool:
    """Whether `events` recorded a channel's SUBSCRIBED as PENDING (double opt-in): what the
    request asked for waits for the contact's confirmation."""
    return any(
        isinstance(e, ChannelUpdateRecorded)
        and e.after.status is SubscriptionStatus.PENDING
        and e.after != e.before
        for e in events
    )


def clamped(events: Iterable[ConsentEvent]) -> bool:
    """Whether the clock-skew policy clamped the time of any update `events` recorded (a
    duplicate records nothing new)."""
    return any(
        isinstance(e, _RECORDED) and e.update.provenance.claimed_at is not None for e in events
    )
