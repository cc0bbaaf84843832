"""Hypothesis strategies for one message's provider reports (test-only for now; the shipped
`engage_core.testing` module comes with the simulation issue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from engage_core import LIFECYCLES, Channel, Observation, Send

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def message_reports(draw: st.DrawFn, channel: Channel | None = None) -> list[Observation | Send]:
    """Distinct reports about one message: statuses, engagement (email), maybe a send record."""
    channel = channel or draw(st.sampled_from(list(Channel)))
    table = LIFECYCLES[channel]
    kinds = list(table.statuses) + sorted(table.engagement_names)
    statuses = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=12))
    reports: list[Observation | Send] = []
    for index, status in enumerate(statuses):
        with_id = draw(st.booleans())
        reports.append(
            Observation(
                channel=channel,
                provider="prov",
                provider_message_id="M1",
                status=status,
                occurred_at=EPOCH + timedelta(seconds=draw(st.integers(0, 10_000))),
                event_id=f"e{index}" if with_id else None,
                details={"n": index},
            )
        )
    if draw(st.booleans()):
        reports.append(
            Send(channel=channel, provider="prov", provider_message_id="M1", campaign_id="c")
        )
    return reports


@st.composite
def arrivals(draw: st.DrawFn, reports: list[Observation | Send]) -> list[Observation | Send]:
    """The same reports in any order, some of them arriving more than once."""
    extra = draw(st.lists(st.sampled_from(reports), max_size=len(reports)))
    return draw(st.permutations(reports + extra))
