"""Hypothesis strategies for one message's provider reports (test-only for now; the shipped
`engage_core.testing` module comes with the simulation issue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import strategies as st

from engage_core import LIFECYCLES, Channel, Observation, Send

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def message_reports(draw: st.DrawFn, channel: Channel | None = None) -> list[Observation | Send]:
    """Distinct reports about one message: statuses, engagement (email), maybe a send record.

    Some carry the provider's event id, some a composite provider key as SendGrid's adapter
    will, some neither (their dedup key is then a digest of what they say)."""
    channel = channel or draw(st.sampled_from(list(Channel)))
    table = LIFECYCLES[channel]
    kinds = list(table.statuses) + sorted(table.engagement_names)
    statuses = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=12))
    reports: list[Observation | Send] = []
    for index, status in enumerate(statuses):
        reports.append(
            Observation(
                channel=channel,
                provider="prov",
                provider_message_id="M1",
                status=status,
                occurred_at=draw(
                    st.none() | st.integers(0, 10_000).map(lambda s: EPOCH + timedelta(seconds=s))
                ),
                event_id=f"e{index}" if draw(st.booleans()) else None,
                details={"n": index},
                provider_keys=(f"composite-{index}",) if draw(st.booleans()) else (),
            )
        )
    if draw(st.booleans()):
        reports.append(
            Send(channel=channel, provider="prov", provider_message_id="M1", campaign_id="c")
        )
    return reports


def _retried_under_a_new_id(report: Observation | Send, attempt: int) -> Observation | Send:
    """The same report again, as SendGrid sometimes resends it: a new event id (never used by
    another report), the same composite key."""
    if isinstance(report, Observation) and report.provider_keys:
        return attrs.evolve(report, event_id=f"retry-{attempt}")
    return report


@st.composite
def arrivals(draw: st.DrawFn, reports: list[Observation | Send]) -> list[Observation | Send]:
    """The same reports in any order, some of them arriving more than once, some of those
    under a new event id."""
    extra = draw(st.lists(st.sampled_from(reports), max_size=len(reports)))
    retried = [
        _retried_under_a_new_id(r, attempt) if draw(st.booleans()) else r
        for attempt, r in enumerate(extra)
    ]
    return draw(st.permutations(reports + retried))
