"""The states of the three consent aggregates, and what they answer about themselves.

- `ChannelSubscription`: one contact vector's channel (every accepted update; the state they
  replay to, kept current as events record it).
- `GroupSubscription`: one address's subscription to one group (its updates; its state is
  judged against the address's channel, so answering needs the channel's updates too).
- `GroupDirectory`: which groups an address has, so listing them needs no scan of the log.

States only change in `evolve.py`; decisions are made in `decide.py` and `batch.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import attrs

from engage_core.channels import Channel
from engage_core.consent.rules import (
    ReplayKey,
    SubscriptionState,
    Update,
    channel_state,
    group_state,
)

Identity = tuple[str, str]  # (source kind, source id): what makes an update a duplicate


def identity_of(update: Update) -> Identity:
    return (update.provenance.kind.value, update.provenance.source_id)


@attrs.frozen
class ChannelSubscription:
    """Almost every update replays after all before it, so the state keeps the state the last
    arrival left (`current`, recorded by its event) and the newest replay key; a full replay
    is needed only when an update arrives out of order (`rules.arrival`)."""

    id: UUID
    version: int
    channel: Channel
    key: str
    updates: tuple[Update, ...] = ()
    current: SubscriptionState = attrs.field(factory=SubscriptionState)  # replay of `updates`
    newest: ReplayKey | None = None  # the greatest replay key among `updates`

    @property
    def seen(self) -> frozenset[Identity]:
        return frozenset(identity_of(u) for u in self.updates)

    def is_newest(self, update: Update) -> bool:
        """Whether `update` replays after every update so far (the usual case)."""
        return self.newest is None or update.replay_key > self.newest

    def state_before(self, update: Update) -> SubscriptionState:
        """The channel as an update replayed at `update`'s place finds it (a group update is
        judged against this)."""
        if self.is_newest(update):
            return self.current
        key = update.replay_key
        return channel_state([u for u in self.updates if u.replay_key <= key])

    def as_of(self, moment: datetime) -> SubscriptionState:
        return channel_state(self.updates, as_of=moment)


@attrs.frozen
class GroupSubscription:
    """Its updates; its state is judged against the address's channel at each update's
    place in replay, so answering needs the channel's updates too (`state`)."""

    id: UUID
    version: int
    email: str
    group: str
    updates: tuple[Update, ...] = ()

    @property
    def seen(self) -> frozenset[Identity]:
        return frozenset(identity_of(u) for u in self.updates)

    def state(
        self, channel_updates: Sequence[Update], as_of: datetime | None = None
    ) -> SubscriptionState:
        return group_state(self.updates, channel_updates, as_of=as_of)


@attrs.frozen
class GroupDirectory:
    """The groups an address has, so listing them needs no scan of the log."""

    id: UUID
    version: int
    groups: tuple[str, ...] = ()  # in the order first seen


ConsentState = ChannelSubscription | GroupSubscription | GroupDirectory
