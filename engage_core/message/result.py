"""What a batch of inputs did to its messages, counted so the counts add up."""

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
class ObserveResult:
    """What a batch of inputs did. The counts always add up to `received`."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    late: int = 0
    conflicts: int = 0
    rejected: int = 0

    def __add__(self, other: ObserveResult) -> ObserveResult:
        return ObserveResult(
            *(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True))
        )

    def as_dict(self) -> dict[str, int]:
        return attrs.asdict(self)

    @classmethod
    def of_inputs(
        cls, inputs: Sequence[Observation | Send], events: Sequence[Any], *, count_sends: bool
    ) -> ObserveResult:
        """Counts for `inputs` from the events a save of them returned (their message events
        come first, one per input, in order); reports only unless `count_sends`."""
        per_input = list(zip(events[: len(inputs)], inputs, strict=True))
        return cls.of(
            [
                e
                for e, i in per_input
                if isinstance(e, MessageEvent) and (count_sends or not isinstance(i, Send))
            ]
        )

    @classmethod
    def of(cls, events: Sequence[MessageEvent], rejected: int = 0) -> ObserveResult:
        counts = dict.fromkeys(Outcome, 0)
        for event in events:
            if isinstance(event, DuplicateIgnored):
                counts[Outcome.DUPLICATE] += 1
            elif isinstance(event, Observed | SendRecorded):
                counts[event.outcome] += 1
            else:  # a new kind of input must be counted somewhere, or the sum would lie
                raise TypeError(f"cannot count {type(event).__name__}")
        return cls(
            received=len(events) + rejected,
            applied=counts[Outcome.APPLIED],
            duplicates=counts[Outcome.DUPLICATE],
            late=counts[Outcome.LATE],
            conflicts=counts[Outcome.CONFLICT],
            rejected=rejected,
        )
