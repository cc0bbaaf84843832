"""The service's Prometheus metrics, one registry per app (so two apps in one process, as in
tests or a user's mount, never share or collide).

Routes that take inputs report what became of them with `inputs(source, counts)`: the counts
vocabulary every way in shares (`engage_core.counts.Counts`: applied, unchanged, duplicates,
late, conflicts, partial, rejected, quarantined).
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter

__all__ = ["INPUT_OUTCOMES", "ServiceMetrics"]

INPUT_OUTCOMES = (
    "applied", "unchanged", "duplicates", "late", "conflicts", "partial", "rejected",
    "quarantined",
)  # fmt: skip


class ServiceMetrics:
    """The metrics one app keeps, in its own `registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inputs_total = Counter(
            "engage_inputs", "Inputs received over HTTP, by where they came in and what became "
            "of them", ("source", "outcome"), registry=self.registry,
        )  # fmt: skip

    def inputs(self, source: str, counts: Mapping[str, object]) -> None:
        """Count a request's inputs by outcome (`source`: twilio, sendgrid, meta, identify,
        api, csv); outcomes with a zero count are skipped, unknown names ignored."""
        for outcome in INPUT_OUTCOMES:
            value = counts.get(outcome)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                self.inputs_total.labels(source, outcome).inc(value)
