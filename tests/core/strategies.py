"""The strategies for one message's provider reports, from `engage_core.testing` (one
definition each, the one users get): `message_reports` draws distinct reports whose statuses
need not make a legal walk, `arrivals` the same reports in any order, some more than once,
some of those under a new event id."""

from __future__ import annotations

from hypothesis import strategies as st

from engage_core import Observation, Send
from engage_core.testing import EPOCH, disorder, reports

__all__ = ["EPOCH", "arrivals", "message_reports"]

message_reports = reports


def arrivals(items: list[Observation | Send]) -> st.SearchStrategy[list[Observation | Send]]:
    """`items` in any order, some arriving more than once, some of those under a new id."""
    return disorder(items, reorder=None, drop=False, delay=False)
