"""The shipped strategies' properties hold for the real engine, on every channel."""

from __future__ import annotations

import pytest

from engage_core import Channel
from tests.testing.properties import (
    arrival_changes_nothing,
    consent_ignores_arrival_order,
    walks_apply_in_order,
)


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_legal_walks_apply_in_order(channel: Channel) -> None:
    walks_apply_in_order(channel)()


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_arrival_order_and_repeats_change_nothing(channel: Channel) -> None:
    arrival_changes_nothing(channel)()


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_consent_ignores_arrival_order(channel: Channel) -> None:
    consent_ignores_arrival_order(channel)()
