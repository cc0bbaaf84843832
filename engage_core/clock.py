"""The clock-skew policy: no source's clock can put a fact in the future.

Consent is replayed in effective-time order, so a time claimed in the future would outrank
every later change: an identify call dated 9999-12-31 SUBSCRIBED would outlast the user's own
unsubscribe, and a far-future UNSUBSCRIBED would make every later change stale. Message reports
carry the provider's time into the published events and the history as well.

So every time a source claims is bounded by when Engage recorded it:
- a user's opt-out (an unsubscribe link, a STOP, a spam report) and a provider's report of a
  message may run ahead of ours by at most `allowance` (default 5 minutes: clocks differ a
  little, and erring late for an opt-out would let an earlier subscribe outrank it);
- every other change (an operator's CSV, API or identify update; a user's opt-in, START or
  group resubscribe) may not run ahead at all: nothing can outrank a user's opt-out recorded
  after it by claiming a later time.
A time beyond its bound is clamped to the recorded time, and the time claimed is kept with the
fact (`claimed_at`), shown in the history and published, so nothing the source said is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from engage_core.consent.rules import OPERATOR_SOURCES, SubscriptionStatus, Update

DEFAULT_ALLOWANCE = timedelta(minutes=5)
ALLOWANCE_SETTING = "ENGAGE_CLOCK_SKEW_SECONDS"


@attrs.frozen
class ClockSkewPolicy:
    """How far ahead of the recorded time a user's or provider's time may be."""

    allowance: timedelta = attrs.field(default=DEFAULT_ALLOWANCE)

    @allowance.validator
    def _not_negative(self, _: object, value: timedelta) -> None:
        if value < timedelta(0):
            raise ValueError(f"the clock-skew allowance must not be negative (got {value})")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ClockSkewPolicy:
        """`ENGAGE_CLOCK_SKEW_SECONDS` (a number of seconds, default 300); `ValueError` with a
        one-line reason for anything else."""
        raw = environ.get(ALLOWANCE_SETTING, "").strip()
        if not raw:
            return cls()
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= 86_400:
            raise ValueError(
                f"{ALLOWANCE_SETTING} must be a number of seconds from 0 to 86400 (got {raw!r})"
            )
        return cls(timedelta(seconds=seconds))

    def bound(self, claimed: datetime, recorded_at: datetime, *, operator: bool = False) -> bool:
        """Whether a claimed time is within the policy: not too far ahead of `recorded_at`
        (not at all, for `operator`: an operator's change or a user's opt-in)."""
        return claimed <= recorded_at + (timedelta(0) if operator else self.allowance)

    def occurred(self, claimed: datetime | None, recorded_at: datetime) -> datetime | None:
        """A provider's time for a report: as claimed, or `recorded_at` when too far ahead."""
        if claimed is None or self.bound(claimed, recorded_at):
            return claimed
        return recorded_at

    def update(self, update: Update, recorded_at: datetime) -> Update:
        """The update as it is recorded: its effective time clamped to when it was recorded
        (its provenance's `recorded_at`, or `recorded_at` if that is earlier) when it is beyond
        the policy, with the claimed time kept in its provenance."""
        provenance = update.provenance
        recorded = min(provenance.recorded_at, recorded_at)
        opt_out = update.lock or update.status is SubscriptionStatus.UNSUBSCRIBED
        strict = provenance.kind in OPERATOR_SOURCES or not opt_out
        if self.bound(provenance.effective_at, recorded, operator=strict):
            return update
        clamped = attrs.evolve(
            provenance,
            effective_at=recorded,
            claimed_at=provenance.claimed_at or provenance.effective_at,
        )
        return attrs.evolve(update, provenance=clamped)


DEFAULT_CLOCK_SKEW = ClockSkewPolicy()
