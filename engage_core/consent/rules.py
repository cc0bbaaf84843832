"""The consent rules (DOMAIN.md §3), as pure functions over timestamped updates.

A subscription's state is the replay of its updates **in effective-time order**, not in
arrival order. That one choice makes every rule order independent: an update that arrives late
is replayed where it belongs. Usually that changes nothing now (it is *stale*: a newer update
already decided the state), but a user's STOP that happened before an operator's resubscribe
still locks the number and still refuses the resubscribe, whichever arrived first. `as_of(t)`
is the same replay cut at `t`.

- A user's own opt-out (unsubscribe link, group unsubscribe, STOP) is never refused.
- A user's STOP (`lock`) unsubscribes and locks the vector against every operator source (csv,
  api, identify) until the user's own START/YES/UNSTOP (`unlock`); while locked, an operator
  update to anything but UNSUBSCRIBED is refused with UNABLE_TO_SUBSCRIBE. An opt-out made in
  the preference center (or by one-click unsubscribe) locks the same way, a group's too; the
  user's own subscribe there unlocks it.
- An operator's group change needs the channel SUBSCRIBED (or PENDING its confirmation), else
  GLOBAL_STATE_NOT_SUBSCRIBED.
- PENDING (double opt-in) is an operator's SUBSCRIBED on a channel that needs confirmation;
  the contact's confirmation (`confirms_only`), an opt-out or another status ends it.
- Setting the state it already has changes nothing (and will publish nothing downstream).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import cached_property

import attrs

from engage_core.consent.evidence import Proof
from engage_core.observations import InvalidInput

__all__ = [
    "INPUT_STATUSES", "OPERATOR_SOURCES", "ConsentOutcome", "ErrorCode", "Provenance", "Replay",
    "ReplayKey", "SendPermission", "SourceKind", "SubscriptionState", "SubscriptionStatus",
    "Update", "Verdict", "apply_channel_update", "apply_group_update", "arrival", "as_utc",
    "can_send", "channel_state", "group_state", "replay_channel", "replay_group",
    "standing_error",
]  # fmt: skip


class SubscriptionStatus(enum.Enum):
    """A contact's subscription to a channel or group, in Segment's spelling."""

    SUBSCRIBED = "SUBSCRIBED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    DID_NOT_SUBSCRIBE = "DID_NOT_SUBSCRIBE"
    # an operator asked to subscribe a channel that needs the contact's confirmation (double
    # opt-in): never given as input, made by `consent.confirmation` from an operator SUBSCRIBED
    PENDING = "PENDING"

    @classmethod
    def parse(cls, value: object, field: str = "status") -> SubscriptionStatus:
        """Any case, with `-`, `_` or spaces: CSV writes `did-not-subscribe`, SQL traits
        `did_not_subscribe`, identify `DID_NOT_SUBSCRIBE`."""
        if isinstance(value, str):
            known = _STATUS_WORDS.get(value)  # the spellings files repeat, row after row
            if known is not None:
                return known
            word = value.strip().upper().replace("-", "_").replace(" ", "_")
            status = _INPUT_STATUSES.get(word)
            if status is not None:
                if len(_STATUS_WORDS) < 1024:
                    _STATUS_WORDS[value] = status
                return status
        choices = ", ".join(_INPUT_STATUSES)
        raise InvalidInput(field, f"unknown subscription status {value!r}; expected {choices}")


_STATUS_WORDS: dict[str, SubscriptionStatus] = {}
# the statuses an input may ask for (PENDING is made by double opt-in, never given)
INPUT_STATUSES = tuple(s for s in SubscriptionStatus if s is not SubscriptionStatus.PENDING)
_INPUT_STATUSES = {s.value: s for s in INPUT_STATUSES}


class SourceKind(enum.Enum):
    """Where a change came from. The first three are operators; the rest are the user."""

    CSV = "csv"
    API = "api"
    IDENTIFY = "identify"
    PROVIDER = "provider"  # a provider's report of the user's action (unsubscribe link, …)
    KEYWORD = "keyword"  # the user's own inbound STOP / START
    POLICY = "policy"  # a rule turning a message fact into consent (spam report → unsubscribed)
    # the user's own choice through a signed link (`Proof.surface` says which page)
    PREFERENCE_CENTER = "preference_center"


OPERATOR_SOURCES = frozenset({SourceKind.CSV, SourceKind.API, SourceKind.IDENTIFY})
# Equal effective times: the user's own action is replayed last, so it stands.
_TIE_ORDER = {
    SourceKind.CSV: 0,
    SourceKind.IDENTIFY: 1,
    SourceKind.API: 2,
    SourceKind.POLICY: 3,
    SourceKind.PROVIDER: 4,
    SourceKind.KEYWORD: 5,
    SourceKind.PREFERENCE_CENTER: 6,
}


class ConsentOutcome(enum.Enum):
    """What a consent update did to its subscription (recorded whatever it was)."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"  # the state it already had: recorded, nothing published
    STALE = "stale"  # older than the state it would replace: recorded, not applied
    REFUSED = "refused"


class ErrorCode(enum.Enum):
    """Why an update was refused, in the codes Segment's subscription API answers with."""

    UNABLE_TO_SUBSCRIBE = "UNABLE_TO_SUBSCRIBE"
    GLOBAL_STATE_NOT_SUBSCRIBED = "GLOBAL_STATE_NOT_SUBSCRIBED"


def as_utc(value: datetime) -> datetime:
    """Times as UTC: a time without a zone is taken as UTC (as every way in reads them), so
    replay order, as-of answers and published timestamps never meet a naive time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@attrs.frozen
class Provenance:
    """Who changed consent, by which input, meaning which time, recorded when."""

    kind: SourceKind
    source_id: str  # file and row, request id, identify messageId, provider event id, …
    effective_at: datetime = attrs.field(converter=as_utc)
    recorded_at: datetime = attrs.field(converter=as_utc)
    # the user the change was made for, when the source names one (an identify call's userId,
    # the send record of an email whose unsubscribe link was clicked): links contact and user
    user_id: str | None = None
    # the effective time the source claimed, when it was later than the clock-skew policy
    # allows and `effective_at` was clamped to when the change was recorded (None: not clamped)
    claimed_at: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(as_utc)
    )
    proof: Proof | None = None  # the evidence of a user's own change, where known


ReplayKey = tuple[datetime, int, str]


@attrs.frozen(cache_hash=True)
class Update:
    """A requested change of one subscription (a channel's, or a group's)."""

    status: SubscriptionStatus
    provenance: Provenance
    lock: bool = False  # the user's STOP
    unlock: bool = False  # the user's START / YES / UNSTOP
    # with `unlock`: re-subscribe only a vector the user's own STOP locked, otherwise change
    # nothing (a WhatsApp START is not an opt-in by itself)
    unlock_only: bool = False
    # the contact's double opt-in confirmation: SUBSCRIBED only onto a PENDING, else nothing
    # (judged where it replays, so a late opt-out or operator change decides it as it would)
    confirms_only: bool = False

    @cached_property
    def replay_key(self) -> ReplayKey:
        """The total order updates are replayed in: effective time, then source, then id."""
        p = self.provenance
        return (p.effective_at, _TIE_ORDER[p.kind], p.source_id)


@attrs.frozen
class SubscriptionState:
    """A subscription after some updates: status (None: never set), lock, and since when."""

    status: SubscriptionStatus | None = None
    locked_by_user: bool = False
    effective_at: datetime | None = None


@attrs.frozen
class Verdict:
    """What the rules make of one update: its outcome, the state it leaves, why refused."""

    outcome: ConsentOutcome
    after: SubscriptionState
    error: ErrorCode | None = None


def apply_channel_update(state: SubscriptionState, update: Update) -> Verdict:
    """One channel update replayed onto the state it found (updates come in replay order)."""
    decided = _decided_first(state, update)
    if decided is not None:
        return decided
    at = update.provenance.effective_at
    if update.lock:
        after = SubscriptionState(SubscriptionStatus.UNSUBSCRIBED, True, at)
    elif update.unlock:
        after = SubscriptionState(update.status, False, at)
    else:
        after = SubscriptionState(update.status, state.locked_by_user, at)
    same = (after.status, after.locked_by_user) == (state.status, state.locked_by_user)
    # PENDING asked again starts afresh (the sender may send a new confirmation)
    if same and (after.status is not _PENDING or at == state.effective_at):
        return Verdict(ConsentOutcome.UNCHANGED, state)
    return Verdict(ConsentOutcome.APPLIED, after)


def _decided_first(state: SubscriptionState, update: Update) -> Verdict | None:
    """The verdicts that leave the state as it is, decided before any new state is made: a
    confirmation with no PENDING to confirm, a WhatsApp START with no STOP to undo, an
    operator's request against the user's own lock, a PENDING asked of a SUBSCRIBED."""
    if (update.confirms_only and state.status is not _PENDING) or (
        update.unlock and update.unlock_only and not state.locked_by_user
    ):
        return Verdict(ConsentOutcome.UNCHANGED, state)
    if update.lock or update.unlock:
        return None
    if (
        state.locked_by_user
        and update.provenance.kind in OPERATOR_SOURCES
        and update.status is not SubscriptionStatus.UNSUBSCRIBED
    ):
        return Verdict(ConsentOutcome.REFUSED, state, ErrorCode.UNABLE_TO_SUBSCRIBE)
    if update.status is _PENDING and state.status is SubscriptionStatus.SUBSCRIBED:
        return Verdict(ConsentOutcome.UNCHANGED, state)  # PENDING never replaces SUBSCRIBED
    return None


_PENDING = SubscriptionStatus.PENDING


def apply_group_update(
    state: SubscriptionState, update: Update, channel_status: SubscriptionStatus | None
) -> Verdict:
    """One group update, given the address's channel status at the update's effective time.

    A group opt-out the user made in the preference center (`lock`) stands against every
    operator source, as a STOP does on a channel; the user's own subscribe lifts it."""
    operator = update.provenance.kind in OPERATOR_SOURCES
    if operator and channel_status not in _GROUPS_OPEN:
        return Verdict(ConsentOutcome.REFUSED, state, ErrorCode.GLOBAL_STATE_NOT_SUBSCRIBED)
    unsubscribes = update.status is SubscriptionStatus.UNSUBSCRIBED
    if operator and state.locked_by_user and not unsubscribes:
        return Verdict(ConsentOutcome.REFUSED, state, ErrorCode.UNABLE_TO_SUBSCRIBE)
    if update.lock:
        locked = True
    elif operator:
        locked = state.locked_by_user
    else:  # the user's own act: a subscribe lifts their lock, an opt-out keeps it
        locked = state.locked_by_user and unsubscribes and not update.unlock
    after = SubscriptionState(update.status, locked, update.provenance.effective_at)
    if (after.status, after.locked_by_user) == (state.status, state.locked_by_user):
        return Verdict(ConsentOutcome.UNCHANGED, state)
    return Verdict(ConsentOutcome.APPLIED, after)


# the channel states under which an operator may change a group (a group chosen at sign-up
# holds once the contact confirms the channel)
_GROUPS_OPEN = frozenset({SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.PENDING})


def _replay(
    updates: Iterable[Update],
    step: Callable[[SubscriptionState, Update], Verdict],
    as_of: datetime | None,
) -> list[tuple[Update, Verdict]]:
    """Updates in replay order, each with what `step` made of it; cut at `as_of` when given."""
    state = SubscriptionState()
    results: list[tuple[Update, Verdict]] = []
    as_of = as_utc(as_of) if as_of is not None else None
    for update in sorted(updates, key=lambda u: u.replay_key):
        if as_of is not None and update.provenance.effective_at > as_of:
            break
        verdict = step(state, update)
        state = verdict.after
        results.append((update, verdict))
    return results


def replay_channel(
    updates: Iterable[Update], *, as_of: datetime | None = None
) -> list[tuple[Update, Verdict]]:
    """Every update with what it did, in replay order; cut at `as_of` when given."""
    return _replay(updates, apply_channel_update, as_of)


def replay_group(
    updates: Iterable[Update],
    channel_updates: Sequence[Update],
    *,
    as_of: datetime | None = None,
) -> list[tuple[Update, Verdict]]:
    """A group's updates in replay order with what each did, each judged against the address's
    channel as the channel updates replayed before it left it (so a channel update arriving
    late is taken into account: the answer depends on the two sets, not on arrival order)."""

    def step(state: SubscriptionState, update: Update) -> Verdict:
        channel = _channel_before(channel_updates, update)
        return apply_group_update(state, update, channel.status)

    return _replay(updates, step, as_of)


def _channel_before(channel_updates: Sequence[Update], update: Update) -> SubscriptionState:
    """The channel as a group update finds it: the channel updates that replay no later than it
    (by replay key, not only time: one import gives all its rows the same time, and a later
    row's channel change must not judge an earlier row's group change)."""
    return channel_state([u for u in channel_updates if u.replay_key <= update.replay_key])


def group_state(
    updates: Iterable[Update], channel_updates: Sequence[Update], *, as_of: datetime | None = None
) -> SubscriptionState:
    """A group subscription after its updates (or as it stood at `as_of`)."""
    replayed = replay_group(updates, channel_updates, as_of=as_of)
    return replayed[-1][1].after if replayed else SubscriptionState()


def channel_state(updates: Iterable[Update], *, as_of: datetime | None = None) -> SubscriptionState:
    """The channel subscription after its updates (or as it stood at `as_of`)."""
    replayed = replay_channel(updates, as_of=as_of)
    return replayed[-1][1].after if replayed else SubscriptionState()


def standing_error(
    replayed: Sequence[tuple[Update, Verdict]], identity: tuple[str, str]
) -> ErrorCode | None:
    """The refusal the update with this (source kind, source id) stands under in a replay."""
    for update, verdict in replayed:
        if (update.provenance.kind.value, update.provenance.source_id) == identity:
            return verdict.error if verdict.outcome is ConsentOutcome.REFUSED else None
    return None


Replay = Callable[[list[Update]], list[tuple[Update, Verdict]]]


def arrival(earlier: Sequence[Update], update: Update, replay: Replay = replay_channel) -> Verdict:
    """What to record for `update` arriving after the `earlier` ones: what its replay did,
    except that an update a newer one already overrides is STALE (unless refused: an operator
    learns more from UNABLE_TO_SUBSCRIBE than from "stale"). `after` is the state with it."""
    replayed = replay([*earlier, update])
    verdict = next(v for u, v in replayed if u is update)
    after = replayed[-1][1].after
    newer_exists = any(u.replay_key > update.replay_key for u in earlier)
    if newer_exists and verdict.outcome is not ConsentOutcome.REFUSED:
        return Verdict(ConsentOutcome.STALE, after)
    return Verdict(verdict.outcome, after, verdict.error)


_LOCKED_REASON = "the user opted out of this channel themselves (a STOP, or the preference center)"


@attrs.frozen
class SendPermission:
    """Whether a message may go to a contact now, and the reason (for a log or a reply)."""

    allowed: bool
    reason: str


def can_send(
    channel: SubscriptionState,
    group: SubscriptionState | None = None,
    *,
    transactional: bool = False,
) -> SendPermission:
    """Whether a message may go to a contact vector (DOMAIN.md §3).

    Marketing needs the channel SUBSCRIBED (and the group, when one is named). A transactional
    send may ignore DID_NOT_SUBSCRIBE and no state at all, but never an unsubscribe or a
    user's STOP."""
    if channel.locked_by_user:
        return SendPermission(False, _LOCKED_REASON)
    if channel.status is SubscriptionStatus.UNSUBSCRIBED:
        return SendPermission(False, "unsubscribed from this channel")
    if transactional:
        return SendPermission(True, "transactional: not unsubscribed")
    if channel.status is _PENDING:
        return SendPermission(
            False, "marketing needs SUBSCRIBED; the channel is PENDING the contact's confirmation"
        )
    if channel.status is not SubscriptionStatus.SUBSCRIBED:
        state = channel.status.value if channel.status else "no subscription state"
        return SendPermission(False, f"marketing needs SUBSCRIBED; the channel is {state}")
    if group is not None and group.locked_by_user:
        return SendPermission(False, "the user opted out of this group themselves")
    if group is not None and group.status is not SubscriptionStatus.SUBSCRIBED:
        state = group.status.value if group.status else "no subscription state"
        return SendPermission(False, f"marketing needs the group SUBSCRIBED; it is {state}")
    return SendPermission(True, "subscribed")
