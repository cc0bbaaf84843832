"""docs/events.md is what the code generates, and documents exactly the properties the mapping
publishes: every one it emits over a broad workload is described, every one described is
emitted somewhere, and one documented as on named events appears on no other."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from adapters.views import Views, catch_up
from engage_core import LIFECYCLES, Channel, EngageApplication, Observation
from engage_core.message.decide import decide_observation
from engage_core.segment import ALL_EVENT_NAMES, message_events
from engage_core.segment.names import CHANNEL_SUBSCRIPTION_UPDATED, GROUP_SUBSCRIPTION_UPDATED
from engage_core.segment.reference import (
    MESSAGE_PROPERTIES,
    SECTIONS,
    SUBSCRIPTION_PROPERTIES,
    TOP_LEVEL,
    Field,
    refresh,
)
from tests.conftest import FIXED_TIME
from tests.views.workload import apply, workload

DOC = Path(__file__).parents[2] / "docs" / "events.md"
CONSENT_NAMES = {CHANNEL_SUBSCRIPTION_UPDATED, GROUP_SUBSCRIPTION_UPDATED, "Email Subscribed"}


def test_the_document_is_what_the_code_generates() -> None:
    text = DOC.read_text()
    assert refresh(text) == text, "docs/events.md is out of date: run `make docs`"


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_section_is_in_the_document(section: str) -> None:
    assert f"<!-- events: {section} -->" in DOC.read_text()


def test_refresh_notices_a_stale_table() -> None:
    stale = DOC.read_text().replace("| SMS Read |", "| SMS Seen |", 1)
    assert stale != DOC.read_text()
    assert refresh(stale) != stale


def test_every_name_is_documented_once() -> None:
    text = DOC.read_text()
    for name in ALL_EVENT_NAMES:
        assert text.count(f"\n| {name} |") == 1, name


@pytest.fixture(scope="module")
def published() -> list[dict[str, Any]]:
    """The Segment JSON of every event a broad workload publishes."""
    bodies: list[dict[str, Any]] = []
    for seed in range(4):
        app = EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        views = Views(":memory:")
        for batch in workload(seed, messages=60, changes=40):
            apply(app, batch)
        catch_up(app, [views.outbox])
        bodies += [entry.body for entry in views.outbox.entries()]
        views.close()
        app.close()
    return bodies


def _top_level(body: dict[str, Any]) -> set[str]:
    keys = {key for key in body if key != "context"}
    return keys | {f"context.{key}" for key in body["context"]}


def _names(fields: Iterable[Field]) -> set[str]:
    return {field.name for field in fields}


def test_every_top_level_field_emitted_is_documented_and_back(
    published: list[dict[str, Any]],
) -> None:
    emitted = set().union(*(_top_level(body) for body in published))
    assert emitted == _names(TOP_LEVEL)


@pytest.mark.parametrize(
    ("consent", "documented"),
    [(False, MESSAGE_PROPERTIES), (True, SUBSCRIPTION_PROPERTIES)],
    ids=["message", "subscription"],
)
def test_every_property_emitted_is_documented_and_back(
    published: list[dict[str, Any]], consent: bool, documented: tuple[Field, ...]
) -> None:
    bodies = [b for b in published if (b["event"] in CONSENT_NAMES) == consent]
    emitted = set().union(*(body["properties"] for body in bodies))
    assert emitted - _names(documented) == set(), "emitted but not documented"
    assert _names(documented) - emitted == set(), "documented but never emitted"


def test_a_property_documented_on_named_events_appears_on_no_other(
    published: list[dict[str, Any]],
) -> None:
    for consent, documented in ((False, MESSAGE_PROPERTIES), (True, SUBSCRIPTION_PROPERTIES)):
        seen_on: dict[str, set[str]] = defaultdict(set)
        for body in published:
            if (body["event"] in CONSENT_NAMES) == consent:
                for key in body["properties"]:
                    seen_on[key].add(body["event"])
        for field in documented:
            named = {name.strip() for name in field.on.split(",")}
            if named <= set(ALL_EVENT_NAMES):
                assert seen_on[field.name] <= named, field.name


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_the_statuses_segment_does_not_name_publish_nothing(channel: Channel) -> None:
    rules = LIFECYCLES[channel]
    for status in rules.statuses:
        observation = Observation.create(channel, "prov", "M1", status, occurred_at=FIXED_TIME)
        event = decide_observation(None, observation, recorded_at=FIXED_TIME)
        published = message_events(event, None)
        expected = [] if rules.event_names[status] is None else [rules.event_names[status]]
        assert [t.event for t in published] == expected, status
