"""The stored form of consent events from class version 3: each event's JSON without what reading
can fill back, so a CSV row's events take a few hundred bytes of store, not a kilobyte.

A consent event repeats itself: most fields hold their defaults (no user id, no clamped time,
no lock, no error, an empty state before a contact's first update), and most times are one
time written again (an update recorded when it took effect; the state after an applied update
since that update's time). The writer leaves a field out only where its value is the one the
reader puts back, which it checks on the value itself, so every event reads back equal to what
the full form gives, whatever it holds:

- provenance: `recorded_at` when it is `effective_at` (the same instant and offset, so the
  same text); `user_id`, `claimed_at` and `proof` when null, and a proof's unknown fields;
- update: `lock`, `unlock`, `unlock_only`, `confirms_only` when false;
- `outcome` when `applied`; `error` when null;
- `before`: the whole state when it is the empty state (no status, unlocked, no time);
- `after`: the whole state when it is what the update applied (the update's status, unlocked,
  since the update's effective time);
- any state written: `status`, `effective_at` when null, `locked_by_user` when false.

The full form (every field, as class version 2 stored it) is a valid compact form: reading
fills only what is missing, so old events need no change beyond their version, and an event
the writer cannot build (a value that is no JSON) is stored whole by the converter instead.
Reading is a structure hook of the converter (`filled`), so every reader of stored events,
the application's mapper and the views' records alike, reads the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from engage_core.consent.events import (
    ChannelUpdateDuplicated,
    ChannelUpdateRecorded,
    ConsentEvent,
    GroupStateRejudged,
    GroupUpdateDuplicated,
    GroupUpdateRecorded,
)
from engage_core.consent.rules import ConsentOutcome, SubscriptionState, Update

__all__ = ["COMPACT_MAKERS", "filled"]

_APPLIED = ConsentOutcome.APPLIED


def _same_time(a: Any, b: Any) -> bool:
    """Whether `a` is stored as the very text `b` is: the same object, or equal datetimes with
    the same UTC offset (equal instants at other offsets are written differently)."""
    return a is b or (
        type(a) is datetime and type(b) is datetime and a == b and a.utcoffset() == b.utcoffset()
    )


def _update(u: Update) -> dict[str, Any]:
    p = u.provenance
    at = p.effective_at
    provenance: dict[str, Any] = {
        "kind": p.kind._value_,
        "source_id": p.source_id,
        "effective_at": at,
    }
    if p.recorded_at is not at and not _same_time(p.recorded_at, at):
        provenance["recorded_at"] = p.recorded_at
    if p.user_id is not None:
        provenance["user_id"] = p.user_id
    if p.claimed_at is not None:
        provenance["claimed_at"] = p.claimed_at
    if p.proof is not None:  # its fields that are known
        provenance["proof"] = {k: v for k, v in attrs.asdict(p.proof).items() if v is not None}
    made: dict[str, Any] = {"status": u.status._value_, "provenance": provenance}
    if u.lock is not False:
        made["lock"] = u.lock
    if u.unlock is not False:
        made["unlock"] = u.unlock
    if u.unlock_only is not False:
        made["unlock_only"] = u.unlock_only
    if u.confirms_only is not False:
        made["confirms_only"] = u.confirms_only
    return made


def _state(s: SubscriptionState) -> dict[str, Any]:
    made: dict[str, Any] = {}
    if s.status is not None:
        made["status"] = s.status._value_
    if s.locked_by_user is not False:
        made["locked_by_user"] = s.locked_by_user
    if s.effective_at is not None:
        made["effective_at"] = s.effective_at
    return made


def _head(e: ConsentEvent) -> dict[str, Any]:
    return {
        "recorded_at": e.recorded_at,
        "channel": e.channel.consent_name,
        "key": e.key,
        "update": _update(e.update),
    }


def _judged(e: Any, made: dict[str, Any]) -> dict[str, Any]:
    """`before` and `after` into `made`, each left out where the reader puts it back."""
    before, after, update = e.before, e.after, e.update
    if (
        before.status is not None
        or before.locked_by_user is not False
        or (before.effective_at is not None)
    ):
        made["before"] = _state(before)
    if (
        after.status is not update.status
        or after.locked_by_user is not False
        or (
            after.effective_at is not update.provenance.effective_at
            and not _same_time(after.effective_at, update.provenance.effective_at)
        )
    ):
        made["after"] = _state(after)
    return made


def _answer(e: Any, made: dict[str, Any]) -> dict[str, Any]:
    """`outcome` and `error` into `made`, each left out when the usual one."""
    if e.outcome is not _APPLIED:
        made["outcome"] = e.outcome._value_
    if e.error is not None:
        made["error"] = e.error._value_
    return made


def _channel_recorded(e: ChannelUpdateRecorded) -> dict[str, Any]:
    made = _judged(e, _answer(e, _head(e)))
    made["class_version"] = 4
    return made


def _group_recorded(e: GroupUpdateRecorded) -> dict[str, Any]:
    made = _head(e)
    made["group"] = e.group
    made = _judged(e, _answer(e, made))
    made["class_version"] = 4
    return made


def _duplicated(e: ChannelUpdateDuplicated | GroupUpdateDuplicated) -> dict[str, Any]:
    made = _head(e)
    if isinstance(e, GroupUpdateDuplicated):
        made["group"] = e.group
    if e.error is not None:
        made["error"] = e.error._value_
    made["class_version"] = 4
    return made


def _rejudged(e: GroupStateRejudged) -> dict[str, Any]:
    made = _head(e)
    made["group"] = e.group
    made = _judged(e, made)
    made["class_version"] = 4
    return made


# The stored JSON object of each consent class, without the columns eventsourcing stores beside
# it; values orjson writes as the converter would (enums by value, datetimes, strings).
COMPACT_MAKERS: dict[type[Any], Callable[[Any], dict[str, Any]]] = {
    ChannelUpdateRecorded: _channel_recorded,
    ChannelUpdateDuplicated: _duplicated,
    GroupUpdateRecorded: _group_recorded,
    GroupUpdateDuplicated: _duplicated,
    GroupStateRejudged: _rejudged,
}

_NO_PROVENANCE_EXTRAS = {"user_id": None, "claimed_at": None, "proof": None}
_NO_UPDATE_FLAGS = {"lock": False, "unlock": False, "unlock_only": False, "confirms_only": False}
_EMPTY_STATE = {"status": None, "locked_by_user": False, "effective_at": None}


def _fill(state: dict[str, Any], *, outcome: bool, error: bool, judged: bool) -> dict[str, Any]:
    """`state` with every field the writer left out put back, in new objects (a reader's state
    may be shared, and is left as it was)."""
    update = state["update"]
    provenance = update["provenance"]
    at = provenance["effective_at"]
    if len(provenance) < 7:  # the full form's seven fields: nothing left out
        provenance = {**_NO_PROVENANCE_EXTRAS, "recorded_at": at, **provenance}
    update = {**_NO_UPDATE_FLAGS, **update, "provenance": provenance}
    state = {**state, "update": update}
    if outcome and "outcome" not in state:
        state["outcome"] = _APPLIED._value_
    if error and "error" not in state:
        state["error"] = None
    if judged:
        before = state.get("before")
        state["before"] = _EMPTY_STATE if before is None else {**_EMPTY_STATE, **before}
        after = state.get("after")
        if after is None:
            after = {"status": update["status"], "locked_by_user": False, "effective_at": at}
        else:
            after = {**_EMPTY_STATE, **after}
        state["after"] = after
    return state


# which of the fields the writer may leave out each class has: (outcome, error, before/after)
_FILLS: dict[type[Any], tuple[bool, bool, bool]] = {
    ChannelUpdateRecorded: (True, True, True),
    ChannelUpdateDuplicated: (False, True, False),
    GroupUpdateRecorded: (True, True, True),
    GroupUpdateDuplicated: (False, True, False),
    GroupStateRejudged: (False, False, True),
}


def filled(cls: type[Any], structure: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A structure hook for `cls`: its stored state with what the writer left out put back,
    then structured by `structure` (the converter's own function for the class)."""
    outcome, error, judged = _FILLS[cls]

    def hook(state: Any, _: Any) -> Any:
        return structure(_fill(state, outcome=outcome, error=error, judged=judged), cls)

    return hook
