"""A batch's fold of message events: mutable scratch state, built into one immutable
`MessageState` per message per batch.

`evolve` builds a new frozen state for every event, and its frozenset unions copy every dedup
key a message has seen on every report (quadratic in a busy message's reports). A batch of
provider reports holds most of each message's events (2.7 of them on average in the ingest
workload), so deciding the batch against a `Draft` (sets and a dict, changed in place) and
freezing each message once at the end does the work of one state per message instead of one per
event, and a fold of a long log in linear time. `Draft.apply` does what `evolve`'s handlers
do, field for field; `tests/core/test_perf_draft.py` proves freezing a draft folded through any
decided sequence equals folding it with `evolve`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from engage_core.channels import Channel
from engage_core.lifecycles import LIFECYCLES, lifecycle
from engage_core.message.events import DuplicateIgnored, MessageEvent, Observed, SendRecorded
from engage_core.message.evolve import merge_send
from engage_core.message.state import Engagement, MessageState
from engage_core.observations import Send

__all__ = ["Draft", "fold_drafted"]

# Each channel's engagement kinds by the channel's value (`lifecycle(channel)` hashes the enum
# member through a Python-level `__hash__`; every report a batch folds asks).
_ENGAGEMENTS = {channel._value_: rules.engagement_names for channel, rules in LIFECYCLES.items()}


class Draft:
    """A message's state while a batch is decided: the attributes decisions read, as
    `MessageState` names them, with `seen`, `known`, `reported` and `engagement` mutable."""

    __slots__ = (
        "channel",
        "engagement",
        "id",
        "known",
        "provider",
        "provider_message_id",
        "reported",
        "seen",
        "send",
        "status",
        "version",
    )

    def __init__(self, state: MessageState) -> None:
        self.id: UUID = state.id
        self.version: int = state.version
        self.channel: Channel = state.channel
        self.provider: str = state.provider
        self.provider_message_id: str = state.provider_message_id
        self.status: str | None = state.status
        self.send: Send | None = state.send
        self.engagement: dict[str, Engagement] = dict(state.engagement)
        self.seen: set[str] = set(state.seen)
        self.known: set[str] = set(state.known)
        self.reported: set[str] = set(state.reported)

    @classmethod
    def start(cls, state: MessageState | None, event: MessageEvent) -> Draft:
        """A draft of `state`, or of the message `event` starts when there is none yet."""
        if state is not None:
            return cls(state)
        draft: Draft = object.__new__(cls)
        draft.id = event.originator_id
        draft.version = 0
        draft.channel = event.channel
        draft.provider = event.provider
        draft.provider_message_id = event.provider_message_id
        draft.status = None
        draft.send = None
        draft.engagement = {}
        draft.seen, draft.known, draft.reported = set(), set(), set()
        return draft

    def apply(self, event: MessageEvent) -> None:
        """Fold `event` in, as `evolve` would."""
        self.version = event.originator_version
        if type(event) is Observed:
            self._observed(event)
        elif type(event) is SendRecorded:
            self.status = event.status_after
            self.send = merge_send(self.send, event.send)
            self.seen.update(event.dedup_keys)
            self.known.add(lifecycle(self.channel).initial)
        elif type(event) is DuplicateIgnored:
            self.seen.update(event.dedup_keys)
        else:
            raise TypeError(f"not a message event: {type(event).__name__}")

    def _observed(self, event: Observed) -> None:
        status = event.status
        if event.inferred:
            self.known.update(event.inferred)
        if status in _ENGAGEMENTS[self.channel._value_]:
            at: datetime = event.occurred_at or event.recorded_at
            tally = self.engagement.get(status)
            self.engagement[status] = tally.add(at) if tally else Engagement(1, at, at)
        else:
            self.known.add(status)
            self.reported.add(status)
        self.status = event.status_after
        self.seen.update(event.dedup_keys)

    def freeze(self) -> MessageState:
        """The immutable state this draft stands for (the draft is not to be used after)."""
        return MessageState(
            id=self.id,
            version=self.version,
            channel=self.channel,
            provider=self.provider,
            provider_message_id=self.provider_message_id,
            status=self.status,
            send=self.send,
            engagement=self.engagement,
            seen=frozenset(self.seen),
            known=frozenset(self.known),
            reported=frozenset(self.reported),
        )


def fold_drafted(
    events: Iterable[MessageEvent], state: MessageState | None = None
) -> MessageState | None:
    """`evolve.fold` in one draft: the same state, in time linear in the events."""
    draft: Draft | None = None
    for event in events:
        if draft is None:
            draft = Draft.start(state, event)
        draft.apply(event)
    return state if draft is None else draft.freeze()
