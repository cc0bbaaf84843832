"""A Hypothesis state machine drives the SQLite application with interleaved batches for several
messages, reopening the store between steps, and checks it against the pure fold."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from engage_core import Channel, EngageApplication, MessageState, Observation, Send
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.evolve import evolve
from engage_core.testing import disorder, reports
from tests.conftest import FIXED_TIME, sqlite_env

MESSAGES = [(Channel.SMS, "SM1"), (Channel.EMAIL, "EM1"), (Channel.WHATSAPP, "WA1")]


# Send records no shipped strategy draws: see `batches`.
_OTHER_SENDS = st.lists(st.tuples(st.sampled_from(MESSAGES), st.sampled_from(["a", "b"])),
                        max_size=2)  # fmt: skip


@st.composite
def batches(draw: st.DrawFn) -> list[Observation | Send]:
    """One batch of one to eight reports about the three messages: for one to three picks of
    them (one message may be picked twice, so its event ids recur with other statuses, as
    conflicting reports do), the shipped `reports` of it, then the shipped `disorder` in any
    order, some repeated, some of those under a new event id; as many as the batch holds.

    Local on top of them: send records with campaign "a" or "b" (the shipped `reports` only
    appends one with campaign "c"), so a message also meets send records that disagree."""
    size = draw(st.integers(1, 8))
    made: list[Observation | Send] = []
    for channel, provider_message_id in draw(st.lists(st.sampled_from(MESSAGES), min_size=1,
                                                      max_size=3)):  # fmt: skip
        room = size - len(made)
        if room < 1:
            break
        made += draw(reports(channel, provider="p", provider_message_id=provider_message_id,
                             max_size=room))  # fmt: skip
    for (channel, provider_message_id), campaign in draw(_OTHER_SENDS):
        made.append(Send(channel=channel, provider="p", provider_message_id=provider_message_id,
                         campaign_id=campaign))  # fmt: skip
    return draw(disorder(made, reorder=None, drop=False, delay=False))[:size]


class ApplicationAgainstTheFold(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp())
        self.app = self._open()
        self.expected: dict[UUID, MessageState | None] = {}
        self.sent: list[Observation | Send] = []

    def _open(self) -> EngageApplication:
        return EngageApplication(env=sqlite_env(self.directory / "e.db"), clock=lambda: FIXED_TIME)

    @rule(batch=batches())
    def observe(self, batch: list[Observation | Send]) -> None:
        result = self.app.observe(batch)
        assert result.received == len(batch)
        for item in batch:
            state = self.expected.get(item.message_id)
            if isinstance(item, Send):
                event = decide_send(state, item, recorded_at=FIXED_TIME)
            else:
                event = decide_observation(state, item, recorded_at=FIXED_TIME)
            self.expected[item.message_id] = evolve(state, event)
        self.sent.extend(batch)

    @precondition(lambda self: bool(self.sent))
    @rule()
    def resend_everything(self) -> None:
        """A provider replays its whole backlog: nothing may change."""
        before = {key: self._state(key) for key in self.expected}
        result = self.app.observe(self.sent)
        assert result.duplicates == result.received
        for key, state in before.items():
            after = self._state(key)
            assert after is not None
            assert state is not None
            assert (after.status, after.engagement, after.seen) == (
                state.status, state.engagement, state.seen,
            )  # fmt: skip
            self.expected[key] = after

    def _state(self, key: UUID) -> MessageState | None:
        found = self.app.message(key)
        return None if found is None else found.state

    @rule()
    def reopen(self) -> None:
        self.app.close()
        self.app = self._open()

    @invariant()
    def store_equals_fold(self) -> None:
        for key, state in self.expected.items():
            assert self._state(key) == state

    def teardown(self) -> None:
        self.app.close()
        shutil.rmtree(self.directory, ignore_errors=True)


TestApplicationAgainstTheFold = ApplicationAgainstTheFold.TestCase
# examples from the active profile (default or slow), a dozen steps each
TestApplicationAgainstTheFold.settings = settings(stateful_step_count=12, deadline=None)
