"""Fold consent events into the consent aggregates' states: pure, the only place they change.

The handler table below is the table of contents: one function per event class. As on the
message side, nothing is re-decided here: each event carries what its decision found (a
channel update's `after` is the state its arrival left), so old events keep loading whatever
the rules become.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from engage_core.consent.events import (
    ChannelUpdateDuplicated,
    ChannelUpdateRecorded,
    ConsentEvent,
    GroupListed,
    GroupStateRejudged,
    GroupUpdateDuplicated,
    GroupUpdateRecorded,
)
from engage_core.consent.rules import ReplayKey
from engage_core.consent.state import (
    ChannelSubscription,
    ConsentState,
    GroupDirectory,
    GroupSubscription,
)

ChannelEvent = ChannelUpdateRecorded | ChannelUpdateDuplicated
GroupEvent = GroupUpdateRecorded | GroupUpdateDuplicated | GroupStateRejudged


def _channel_recorded(
    state: ChannelSubscription | None, event: ChannelUpdateRecorded
) -> ChannelSubscription:
    update = event.update
    if state is None:
        updates: tuple[Any, ...] = (update,)
        newest: ReplayKey | None = update.replay_key
    else:
        updates = (*state.updates, update)
        newest = update.replay_key if state.is_newest(update) else state.newest
    return ChannelSubscription(
        event.originator_id, event.originator_version, event.channel, event.key,
        updates, event.after, newest,
    )  # fmt: skip


def _channel_duplicated(
    state: ChannelSubscription | None, event: ChannelUpdateDuplicated
) -> ChannelSubscription:
    if state is None:
        return ChannelSubscription(
            event.originator_id, event.originator_version, event.channel, event.key
        )
    return attrs.evolve(state, version=event.originator_version)


def _group(state: GroupSubscription | None, event: GroupEvent) -> GroupSubscription:
    if state is None:
        state = GroupSubscription(event.originator_id, 0, event.key, event.group)
    updates = state.updates
    if isinstance(event, GroupUpdateRecorded):
        updates = (*updates, event.update)
    return attrs.evolve(state, version=event.originator_version, updates=updates)


def _listed(state: GroupDirectory | None, event: GroupListed) -> GroupDirectory:
    groups = state.groups if state is not None else ()
    return GroupDirectory(event.originator_id, event.originator_version, (*groups, event.group))


_HANDLERS: Mapping[type[Any], Callable[[Any, Any], ConsentState]] = {
    ChannelUpdateRecorded: _channel_recorded,
    ChannelUpdateDuplicated: _channel_duplicated,
    GroupUpdateRecorded: _group,
    GroupUpdateDuplicated: _group,
    GroupStateRejudged: _group,
    GroupListed: _listed,
}

AnyConsentEvent = ConsentEvent | GroupListed


def evolve(state: ConsentState | None, event: AnyConsentEvent) -> ConsentState:
    """The state after one event (of the aggregate `state` is of)."""
    return _HANDLERS[type(event)](state, event)


def fold(events: Iterable[AnyConsentEvent], state: ConsentState | None = None) -> Any:
    """The state after `events` (from `state`, or from nothing): the aggregate's own type."""
    for event in events:
        state = _HANDLERS[type(event)](state, event)
    return state


def evolve_channel(state: ChannelSubscription | None, event: ChannelEvent) -> ChannelSubscription:
    if type(event) is ChannelUpdateRecorded:  # every change a batch decides lands here or below
        return _channel_recorded(state, event)
    if type(event) is ChannelUpdateDuplicated:
        return _channel_duplicated(state, event)
    after = evolve(state, event)  # a subclass: the table decides, as `fold` does
    assert isinstance(after, ChannelSubscription)
    return after


def evolve_group(state: GroupSubscription | None, event: GroupEvent) -> GroupSubscription:
    after = evolve(state, event)
    assert isinstance(after, GroupSubscription)
    return after


def evolve_directory(state: GroupDirectory | None, event: GroupListed) -> GroupDirectory:
    return _listed(state, event)


def fold_channel(events: Iterable[Any]) -> ChannelSubscription | None:
    state: ChannelSubscription | None = fold(events)
    return state


def fold_group(events: Iterable[Any]) -> GroupSubscription | None:
    state: GroupSubscription | None = fold(events)
    return state


def fold_directory(events: Iterable[Any]) -> GroupDirectory | None:
    state: GroupDirectory | None = fold(events)
    return state
