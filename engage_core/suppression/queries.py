"""What holds for a contact's suppression: queries over any reader of an aggregate's events,
as `engage_core.consent.queries` reads consent (nothing here writes)."""

from __future__ import annotations

from datetime import datetime

import attrs

from engage_core.consent.contacts import ContactKey
from engage_core.ports import EventsOf
from engage_core.suppression.events import SuppressionChanged
from engage_core.suppression.facts import SuppressionFact, suppression_id
from engage_core.suppression.policy import Lift, Suppression
from engage_core.suppression.state import SuppressionRecord, fold

__all__ = ["SuppressionAnswer", "suppression_answer", "suppression_now", "suppression_record"]


@attrs.frozen
class SuppressionAnswer:
    """A contact's suppression as a query answers it: the suppression (None: not suppressed),
    the policy it was last derived under, and the history it was derived from: every fact
    noted, every lift, every change with its cause."""

    contact: ContactKey
    suppression: Suppression | None
    policy: str | None
    facts: tuple[SuppressionFact, ...] = ()
    lifts: tuple[Lift, ...] = ()
    changes: tuple[SuppressionChanged, ...] = ()


def suppression_record(events_of: EventsOf, contact: ContactKey) -> SuppressionRecord | None:
    """The contact's suppression aggregate (None: no fact was ever noted or lift made)."""
    return fold(events_of(suppression_id(contact)))


def suppression_now(
    events_of: EventsOf, contact: ContactKey, *, as_of: datetime | None = None
) -> Suppression | None:
    """The contact's suppression now, or as recorded at `as_of` (None: not suppressed)."""
    record = suppression_record(events_of, contact)
    if record is None:
        return None
    return record.as_of(as_of) if as_of is not None else record.current


def suppression_answer(events_of: EventsOf, contact: ContactKey) -> SuppressionAnswer:
    """The contact's suppression now, with its history."""
    record = suppression_record(events_of, contact)
    if record is None:
        return SuppressionAnswer(contact, None, None)
    return SuppressionAnswer(
        contact, record.current, record.policy, record.facts, record.lifts, record.changes
    )
