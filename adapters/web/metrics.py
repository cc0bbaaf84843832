"""The service's Prometheus metrics, one registry per app (so two apps in one process, as in
tests or a user's mount, never share or collide).

Routes that take inputs report what became of them with `inputs(source, counts)`: the counts
vocabulary every way in shares (`engage_core.counts.Counts`: applied, unchanged, duplicates,
late, conflicts, partial, rejected, quarantined). Every request is counted by route and status
and timed (`observability`); refusals over their source's allowance are counted unheld
(`abuse`). What the store holds (views and outbox lag, dead letters, the quarantine) is not
counted as it happens but measured: `StoreGauges` reads it when /metrics is scraped, and the
collector here reports the last reading. Saves decided again after a conflicting write
(`engage_save_retries_total`) are the core's own process-wide count, read at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import attrs
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engage_core.saving import save_retries

__all__ = ["INPUT_OUTCOMES", "LATENCY_BUCKETS", "METHODS", "Reading", "ServiceMetrics",
           "method_label"]  # fmt: skip

INPUT_OUTCOMES = (
    "applied", "unchanged", "duplicates", "late", "conflicts", "partial", "rejected",
    "quarantined",
)  # fmt: skip
# seconds: a webhook is a few milliseconds on SQLite; seconds mean the store is struggling
# the methods a label may name; any other is "other". A client may send any token as its
# method, and each new label value is a new series kept for the process's life: unbounded
# labels would let anyone grow /metrics (and the memory behind it) without end
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def method_label(method: str) -> str:
    """`method` when it is one of `METHODS` (as sent: methods are case-sensitive), else
    "other": what a metric label or a log line may say of a request's method."""
    return method if method in METHODS else "other"


@attrs.frozen
class Reading:
    """What the store held when last measured (`StoreGauges.read`)."""

    log_position: int = 0  # the log's last position
    views_lag: Mapping[str, int] = attrs.field(factory=dict)  # view → events behind the log
    outbox_lag: Mapping[str, int] = attrs.field(factory=dict)  # destination → events pending
    dead_letters: Mapping[str, int] = attrs.field(factory=dict)  # destination → parked letters
    quarantined: int = 0  # requests held and not released


class ServiceMetrics:
    """The metrics one app keeps, in its own `registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inputs_total = Counter(
            "engage_inputs", "Inputs received over HTTP, by where they came in and what became "
            "of them", ("source", "outcome"), registry=self.registry,
        )  # fmt: skip
        self.requests_total = Counter(
            "engage_http_requests", "HTTP requests answered, by route template, method and "
            "status", ("route", "method", "status"), registry=self.registry,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "engage_http_request_duration_seconds", "Time from a request's arrival to the end "
            "of its answer, by route template", ("route",), buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.unheld_total = Counter(
            "engage_refusals_unheld", "Refused webhook requests not held in quarantine, their "
            "source over ENGAGE_HELD_PER_MINUTE", ("source",), registry=self.registry,
        )  # fmt: skip
        self.reading = Reading()
        self.registry.register(_ReadingCollector(lambda: self.reading))
        self.registry.register(_RetriesCollector())

    def inputs(self, source: str, counts: Mapping[str, object]) -> None:
        """Count a request's inputs by outcome (`source`: twilio, sendgrid, meta, identify,
        api, csv); outcomes with a zero count are skipped, unknown names ignored."""
        for outcome in INPUT_OUTCOMES:
            value = counts.get(outcome)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                self.inputs_total.labels(source, outcome).inc(value)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count and time one answered request (`route`: the route's template, never the
        path as sent, and the method one of a fixed few, so the labels stay few)."""
        self.requests_total.labels(route, method_label(method), str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)


class _ReadingCollector(Collector):
    """The last `Reading` as gauges."""

    def __init__(self, reading: Callable[[], Reading]) -> None:
        self._reading = reading

    def collect(self) -> Iterator[Metric]:
        reading = self._reading()
        yield GaugeMetricFamily("engage_log_position", "The event log's last position",
                                value=reading.log_position)  # fmt: skip
        yield _family("engage_view_lag_events", "Events of the log a view has not applied yet",
                      "view", reading.views_lag)  # fmt: skip
        yield _family("engage_outbox_lag_events", "Outbox events after a destination's cursor, "
                      "not yet delivered", "destination", reading.outbox_lag)  # fmt: skip
        yield _family("engage_dead_letters", "Dead letters parked and not redriven",
                      "destination", reading.dead_letters)  # fmt: skip
        yield GaugeMetricFamily("engage_quarantine_held", "Requests held in quarantine and not "
                                "released", value=reading.quarantined)  # fmt: skip

    def describe(self) -> Iterator[Metric]:
        return self.collect()


class _RetriesCollector(Collector):
    """The saves this process decided again after another writer changed the same aggregates
    first (`engage_core.saving.save_retries`): with several workers or hosts on one
    PostgreSQL store, a rate rising with the load says they contend for the same messages."""

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("engage_save_retries", "Saves decided again after a "
                                  "conflicting write by another writer, in this process",
                                  value=save_retries())  # fmt: skip

    def describe(self) -> Iterator[Metric]:
        return self.collect()


def _family(name: str, help_text: str, label: str, values: Mapping[str, int]) -> Metric:
    family = GaugeMetricFamily(name, help_text, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
