"""The cross-aggregate consent decision, as a pure function and without an application: a
batch decided at once equals the same changes decided one at a time; a group change sees the
channel change just before it; a late channel change re-judges the groups it affects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage_core.consent.batch import (
    ConsentDecision,
    decide_consent,
    decide_consent_batch,
    listed_group_reads,
    reads,
)
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import (
    ChannelUpdateRecorded,
    GroupListed,
    GroupStateRejudged,
    GroupUpdateRecorded,
)
from engage_core.consent.evolve import fold
from engage_core.consent.rules import ConsentOutcome, ErrorCode, SourceKind
from engage_core.testing import contacts
from tests.conftest import FIXED_TIME
from tests.core.test_consent_rules import SUB, UNSUB, stop, update, updates

EMAIL = ContactKey.parse("EMAIL", "Someone@Example.com")
PHONE = ContactKey.parse("SMS", "+14155550100")


def load(log: dict[UUID, list[Any]], changes: Sequence[ConsentChange]) -> dict[UUID, Any]:
    """What an application loads for `changes` from an in-memory log: `reads`, then the
    groups the loaded directories list."""
    states = {key: fold(log.get(key, [])) for key in reads(changes)}
    more = listed_group_reads(changes, states) - states.keys()
    return {**states, **{key: fold(log.get(key, [])) for key in more}}


def record(log: dict[UUID, list[Any]], decision: ConsentDecision) -> None:
    for event in decision.events:
        log.setdefault(event.originator_id, []).append(event)


@st.composite
def changes(draw: st.DrawFn) -> list[ConsentChange]:
    """A batch of consent changes: `updates()` (the shipped `subscription_updates`, widened)
    spread over one to three contacts of any channel from the shipped `contacts()`, so changes
    often meet on one contact; an email contact's update changes its channel or one of two
    groups. Only the spreading is this test's own: no shipped strategy draws batches of
    changes."""
    audience = draw(st.lists(contacts(), min_size=1, max_size=3, unique=True))
    made: list[ConsentChange] = []
    for item in draw(updates()):
        contact = draw(st.sampled_from(audience))
        if contact.channel.value == "EMAIL" and draw(st.booleans()):
            group = draw(st.sampled_from(["news", "offers"]))
            made.append(GroupChange(contact, group, update=item))
        else:
            made.append(ChannelChange(contact, item))
    return made


@given(changes(), st.data())
def test_a_batch_decides_as_its_changes_one_at_a_time(
    wanted: list[ConsentChange], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(wanted)))
    at_once: dict[UUID, list[Any]] = {}
    earlier, later = wanted[:cut], wanted[cut:]
    for part in (earlier, later):  # two batches, as two imports would be
        record(at_once, decide_consent_batch(load(at_once, part), part, FIXED_TIME))
    one_by_one: dict[UUID, list[Any]] = {}
    for change in wanted:
        record(one_by_one, decide_consent_batch(load(one_by_one, [change]), [change], FIXED_TIME))
    assert at_once == one_by_one


@given(changes())
def test_the_states_it_returns_are_the_fold_of_its_events(wanted: list[ConsentChange]) -> None:
    log: dict[UUID, list[Any]] = {}
    decision = decide_consent_batch(load(log, wanted), wanted, FIXED_TIME)
    record(log, decision)
    assert decision.events == decide_consent(load({}, wanted), wanted, FIXED_TIME)
    for key, state in decision.states.items():
        assert state == fold(log.get(key, []))


def test_a_group_change_sees_the_channel_change_before_it_in_the_batch() -> None:
    batch: list[ConsentChange] = [
        GroupChange(EMAIL, "news", update=update(SUB, 1)),  # refused: channel not subscribed
        ChannelChange(EMAIL, update(SUB, 2)),
        GroupChange(EMAIL, "news", update=update(SUB, 3)),
    ]
    refused, channel, applied, listing = decide_consent(load({}, batch), batch, FIXED_TIME)
    assert isinstance(refused, GroupUpdateRecorded)
    assert refused.error is ErrorCode.GLOBAL_STATE_NOT_SUBSCRIBED
    assert isinstance(channel, ChannelUpdateRecorded)
    assert isinstance(applied, GroupUpdateRecorded)
    assert applied.outcome is ConsentOutcome.APPLIED
    assert isinstance(listing, GroupListed)  # one listing, after the answers
    assert listing.group == "news"


def test_a_late_channel_stop_rejudges_the_group_it_precedes() -> None:
    log: dict[UUID, list[Any]] = {}
    first: list[ConsentChange] = [
        ChannelChange(EMAIL, update(SUB, 1)),
        GroupChange(EMAIL, "news", update=update(SUB, 5)),
    ]
    record(log, decide_consent_batch(load(log, first), first, FIXED_TIME))
    late: list[ConsentChange] = [ChannelChange(EMAIL, stop(3))]  # replays before the group's
    stopped, rejudged = decide_consent(load(log, late), late, FIXED_TIME)
    assert isinstance(stopped, ChannelUpdateRecorded)
    assert stopped.after.status is UNSUB
    assert isinstance(rejudged, GroupStateRejudged)
    assert (rejudged.group, rejudged.before.status) == ("news", SUB)
    assert rejudged.after.status is not SUB


def test_a_change_claiming_the_future_is_clamped_to_now() -> None:
    future = update(SUB, 60 * 24 * 365 * 5, SourceKind.CSV)  # five years after T0
    (event,) = decide_consent(load({}, [ChannelChange(PHONE, future)]),
                              [ChannelChange(PHONE, future)], FIXED_TIME)  # fmt: skip
    assert isinstance(event, ChannelUpdateRecorded)
    assert event.update.provenance.effective_at == FIXED_TIME
    assert event.update.provenance.claimed_at == future.provenance.effective_at


def test_deciding_against_states_not_loaded_is_refused() -> None:
    batch: list[ConsentChange] = [ChannelChange(PHONE, update(SUB, 1))]
    with pytest.raises(KeyError, match="not loaded"):
        decide_consent({}, batch, FIXED_TIME)
