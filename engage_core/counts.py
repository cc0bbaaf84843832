"""What a batch of inputs did, in one vocabulary for every way in.

`engage observe`, a provider's webhook, a subscription CSV and identify calls all answer with
the same fields, meaning the same thing, and they always add up: `received` is the sum of the
others. A message report and a consent update share the words where they share the meaning
(`late`: recorded, but older than what holds, so it changes nothing; `duplicates`: the same
input again); `partial` is a CSV row some of whose cells were refused; `rejected` an input
refused whole (unreadable, invalid, or refused by the rules); `quarantined` a provider
element held for an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from engage_core.message.events import (
    DuplicateIgnored,
    MessageEvent,
    Observed,
    Outcome,
    SendRecorded,
)
from engage_core.observations import Observation, Send


@attrs.frozen
class Counts:
    """What a batch of inputs did. The other counts always add up to `received`."""

    received: int = 0
    applied: int = 0  # changed a message's status or engagement, or a subscription
    unchanged: int = 0  # a subscription already in that state: recorded, nothing published
    duplicates: int = 0
    late: int = 0
    conflicts: int = 0  # a report incomparable with the status: precedence decided
    partial: int = 0
    rejected: int = 0
    quarantined: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            *(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True))
        )

    @property
    def adds_up(self) -> bool:
        """Whether every input is counted exactly once."""
        others = attrs.astuple(self)[1:]
        return bool(sum(others) == self.received)

    def as_dict(self) -> dict[str, int]:
        """Every count, zeros included: the same keys whatever the way in."""
        return attrs.asdict(self)

    @classmethod
    def of_inputs(
        cls, inputs: Sequence[Observation | Send], events: Sequence[Any], *, count_sends: bool
    ) -> Counts:
        """Counts for `inputs` from the events a save of them returned (their message events
        come first, one per input, in order); reports only unless `count_sends`."""
        per_input = zip(events[: len(inputs)], inputs, strict=True)
        if count_sends:
            return cls.of([e for e, _ in per_input if isinstance(e, MessageEvent)])
        return cls.of(
            [e for e, i in per_input if isinstance(e, MessageEvent) and not isinstance(i, Send)]
        )

    @classmethod
    def of(cls, events: Sequence[MessageEvent], rejected: int = 0) -> Counts:
        """Counts of message events (one per input), and of inputs rejected before them."""
        # every batch's result is counted here, an event at a time: outcomes are told apart by
        # identity and kinds by exact type first (an enum's hash is a Python-level call)
        applied = duplicates = late = conflicts = 0
        for event in events:
            kind = type(event)
            if kind is DuplicateIgnored or (
                kind is not Observed and kind is not SendRecorded and _duplicate_kind(event)
            ):
                duplicates += 1
                continue
            outcome = event.outcome  # type: ignore[attr-defined]
            if outcome is _APPLIED:
                applied += 1
            elif outcome is _LATE:
                late += 1
            elif outcome is _CONFLICT:
                conflicts += 1
            else:
                duplicates += 1
        return cls(
            received=len(events) + rejected,
            applied=applied,
            duplicates=duplicates,
            late=late,
            conflicts=conflicts,
            rejected=rejected,
        )


_APPLIED, _LATE, _CONFLICT = Outcome.APPLIED, Outcome.LATE, Outcome.CONFLICT


def _duplicate_kind(event: MessageEvent) -> bool:
    """Whether a message event of a subclass counts as a duplicate (else it has an outcome); a
    new kind of input must be counted somewhere, or the sum would lie."""
    if isinstance(event, DuplicateIgnored):
        return True
    if isinstance(event, Observed | SendRecorded):
        return False
    raise TypeError(f"cannot count {type(event).__name__}")
