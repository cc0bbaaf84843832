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

from engage_core import LIFECYCLES, Channel, EngageApplication, MessageState, Observation, Send
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.evolve import evolve
from tests.conftest import FIXED_TIME, sqlite_env

MESSAGES = [(Channel.SMS, "SM1"), (Channel.EMAIL, "EM1"), (Channel.WHATSAPP, "WA1")]


@st.composite
def reports(draw: st.DrawFn) -> Observation | Send:
    channel, provider_message_id = draw(st.sampled_from(MESSAGES))
    table = LIFECYCLES[channel]
    if draw(st.integers(0, 9)) == 0:
        return Send(channel=channel, provider="p", provider_message_id=provider_message_id,
                    campaign_id=draw(st.sampled_from(["a", "b"])))  # fmt: skip
    status = draw(st.sampled_from([*table.statuses, *sorted(table.engagement_names)]))
    return Observation(
        channel=channel,
        provider="p",
        provider_message_id=provider_message_id,
        status=status,
        event_id=draw(st.sampled_from([None, "1", "2", "3"])),
    )


class ApplicationAgainstTheFold(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp())
        self.app = self._open()
        self.expected: dict[UUID, MessageState | None] = {}
        self.sent: list[Observation | Send] = []

    def _open(self) -> EngageApplication:
        return EngageApplication(env=sqlite_env(self.directory / "e.db"), clock=lambda: FIXED_TIME)

    @rule(batch=st.lists(reports(), min_size=1, max_size=8))
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
