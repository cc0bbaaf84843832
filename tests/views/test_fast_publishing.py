"""The outbox's fast reading of a report (`adapters.views.publishing.observed_rows`, straight
from the stored JSON) publishes exactly what the core's typed publisher does
(`engage_core.segment.publisher.publish` and `TrackEvent.as_segment`, which the outbox called
for every event before it read JSON), for reports drawn directly rather than simulated: any
channel, any status or engagement of its lifecycle (inbound ones included), any outcome, any
facts (also those a status does not own: a link on a bounce, a group on a click), with or
without the message's send record known, its `Processed` already published or not, times in
any zone and with or without microseconds.

Two levels: one report against the publisher (the memory before it drawn), and a message's
whole history through the stock `OutboxView` against a reference outbox that reads typed
events and calls the publisher for each, as the outbox did before (`git show 004de02`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import attrs
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views.database import ViewCursor, select_in
from adapters.views.outbox import OutboxView
from adapters.views.publishing import observed_rows
from adapters.views.records import as_record
from engage_core import LIFECYCLES, Channel
from engage_core.ids import message_id
from engage_core.message.events import MessageEvent, Observed, Outcome, SendRecorded
from engage_core.observations import Send
from engage_core.provider_facts import ProviderFacts
from engage_core.segment import EventSettings
from engage_core.segment.publisher import NOTHING_PUBLISHED, Published, publish, publish_fact
from engage_core.serialisation import converter
from tests.views.conftest import rows

PROVIDERS = {Channel.EMAIL: "sendgrid", Channel.SMS: "twilio", Channel.WHATSAPP: "twilio"}
CHOSEN_SETTINGS = (
    EventSettings(),
    EventSettings(legacy_group_unsubscribed_spelling=True),
    EventSettings(library_version="9.9.9"),
)
INBOUND = ("received", "receiving")
# contacts: valid for email, valid for SMS and WhatsApp (spelt several ways), and none at all
CONTACTS = (
    "user@example.com", " Other@Example.COM ", "+15551234567", "whatsapp:+15557654321",
    "(555) 765-0000", "nope", "", "   ",
)  # fmt: skip
# a send record's `to` (its validator strips nothing: no blanks), a contact or none
SEND_TO = ("user@example.com", "Other@Example.COM", "+15551234567", "(555) 765-0000", "nope")
TEXTS = st.none() | st.sampled_from(["", "x", "Newsletter", "550 no mailbox", "é\x00"])
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=7))]
)
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=ZONES
).map(lambda at: at.replace(microsecond=0) if at.second % 2 else at)


def statuses(channel: Channel) -> list[str]:
    """Every status of the channel's lifecycle and every engagement it names."""
    rules = LIFECYCLES[channel]
    return [*rules.statuses, *rules.engagement_names]


facts = st.builds(
    ProviderFacts,
    contact=st.none() | st.sampled_from(CONTACTS),
    group=TEXTS,
    link_url=TEXTS,
    error_code=TEXTS,
    reason=TEXTS,
    bounce_type=TEXTS,
    attempt=st.none() | st.sampled_from(["", "2", 3, 0, 1.5]),
)


@st.composite
def sends(draw: st.DrawFn, channel: Channel, pmid: str) -> Send:
    optional = st.none() | st.sampled_from(["c-1", "Spring é"])
    return Send(
        channel=channel, provider=PROVIDERS[channel], provider_message_id=pmid,
        to=draw(st.none() | st.sampled_from(SEND_TO)),
        user_id=draw(st.sampled_from([None, None, "user-7"])),
        campaign_id=draw(optional), campaign_name=draw(optional), journey_id=draw(optional),
        template_id=draw(optional), email_subject=draw(optional),
        sent_at=draw(st.none() | MOMENTS),
    )  # fmt: skip


@st.composite
def observed(draw: st.DrawFn, channel: Channel, pmid: str, version: int,
             status: str | None = None) -> Observed:  # fmt: skip
    if status is None:
        everything = statuses(channel)
        status = draw(st.sampled_from([*everything, *INBOUND]) if channel is not Channel.EMAIL
                      else st.sampled_from(everything))  # fmt: skip
    return Observed(
        originator_id=message_id(channel, PROVIDERS[channel], pmid),
        originator_version=version,
        recorded_at=draw(MOMENTS),
        channel=channel, provider=PROVIDERS[channel], provider_message_id=pmid,
        status=status,
        occurred_at=draw(st.none() | MOMENTS),
        event_id=draw(st.none() | st.just("evt-1")),
        dedup_keys=(f"k{version}",),
        details={},
        outcome=draw(st.sampled_from(list(Outcome))),
        inferred=tuple(draw(st.lists(st.sampled_from(LIFECYCLES[channel].statuses),
                                     max_size=3, unique=True))),
        status_after=draw(st.sampled_from(LIFECYCLES[channel].statuses)),
        facts=draw(facts),
    )  # fmt: skip


def send_recorded(channel: Channel, pmid: str, version: int, send: Send,
                  at: datetime) -> SendRecorded:  # fmt: skip
    return SendRecorded(
        originator_id=message_id(channel, PROVIDERS[channel], pmid), originator_version=version,
        recorded_at=at, channel=channel, provider=PROVIDERS[channel], provider_message_id=pmid,
        send=send, dedup_keys=("send",), outcome=Outcome.APPLIED, status_after="processed",
    )  # fmt: skip


def typed_rows(tracks: Sequence[Any]) -> list[tuple[str, str, bytes]]:
    return [(t.message_id, t.event, orjson.dumps(t.as_segment())) for t in tracks]


@st.composite
def one_report(draw: st.DrawFn) -> tuple[Published, Observed]:
    """A report and the memory before it; a third of them an inbound message (SMS or
    WhatsApp: who it came from is its own contact, not the send record's `to`), a sixth a
    `processed` report after the message's `Processed` went out, the rest any status."""
    kind = draw(st.integers(0, 5))
    if kind < 2:
        channel = draw(st.sampled_from([Channel.SMS, Channel.WHATSAPP]))
        status: str | None = draw(st.sampled_from(INBOUND))
    else:
        channel = draw(st.sampled_from(list(Channel)))
        status = "processed" if kind == 2 else None
    send = draw(st.none() | sends(channel, "pm-1"))
    if kind == 0:  # its send record names a recipient and no user: it must not be who sent it
        send = attrs.evolve(draw(sends(channel, "pm-1")), to="+15551234567", user_id=None)
    memory = Published(send, kind == 2 or draw(st.booleans()))  # a second `processed`
    return memory, draw(observed(channel, "pm-1", draw(st.integers(1, 50)), status))


@settings(max_examples=max(100, settings().max_examples))
@given(drawn=one_report(), chosen=st.sampled_from(CHOSEN_SETTINGS))
def test_a_reports_fast_row_is_the_typed_publishers(
    drawn: tuple[Published, Observed], chosen: EventSettings
) -> None:
    memory, event = drawn
    fast_memory, fast = observed_rows(memory, as_record(event), chosen)
    typed_memory, tracks = publish(memory, event, chosen)
    assert fast == typed_rows(tracks)
    assert [orjson.loads(row[2]) for row in fast] == [t.as_segment() for t in tracks]
    assert fast_memory == typed_memory


class TypedOutbox(OutboxView):
    """The outbox as it was before it read JSON: every event typed, the publisher deciding
    (`git show 004de02:adapters/views/outbox.py`, its `_apply` and `_prepare`)."""

    reads_records: ClassVar[bool] = False

    def _apply(self, cursor: ViewCursor, position: int, event: Any) -> None:
        if isinstance(event, MessageEvent):
            message = event.originator_id.hex
            held = self._pending.get(message)
            known = held if held is not None else self._sends[message]
            now, published = publish(known, event, self.settings)
            if now != known:
                self._pending[message] = self._changed[message] = now
        else:
            published = publish_fact(event, self.settings)
        for track in published:
            self._rows.append(
                (track.message_id, track.event, position, orjson.dumps(track.as_segment()))
            )

    def _prepare(self, cursor: ViewCursor, events: Sequence[tuple[int, Any]]) -> None:
        wanted = [
            message
            for message in dict.fromkeys(
                e.originator_id.hex for _, e in events if isinstance(e, MessageEvent)
            )
            if message not in self._pending and message not in self._sends
        ]
        query = "SELECT message, send, processed FROM outbox_messages WHERE message IN ({})"
        for row in select_in(cursor, query, wanted):
            send = None if row[1] is None else converter.structure(orjson.loads(row[1]), Send)
            self._pending[str(row[0])] = Published(send, bool(row[2]))
        for message in wanted:
            self._pending.setdefault(message, NOTHING_PUBLISHED)


@st.composite
def histories(draw: st.DrawFn) -> list[MessageEvent]:
    """Two messages' reports interleaved, each with its send record somewhere (or none)."""
    history: list[MessageEvent] = []
    for pmid in ("pm-1", "pm-2"):
        channel = draw(st.sampled_from(list(Channel)))
        count = draw(st.integers(1, 6))
        events: list[MessageEvent] = [
            draw(observed(channel, pmid, version)) for version in range(1, count + 1)
        ]
        if draw(st.booleans()):
            where = draw(st.integers(0, count))
            send = send_recorded(channel, pmid, count + 1, draw(sends(channel, pmid)),
                                 draw(MOMENTS))  # fmt: skip
            events.insert(where, send)
        history.extend(events)
    return draw(st.permutations(history)) if draw(st.booleans()) else history


@settings(max_examples=max(40, settings().max_examples // 3), deadline=None)
@given(history=histories(), chosen=st.sampled_from(CHOSEN_SETTINGS), page=st.integers(1, 5))
def test_the_outbox_publishes_drawn_reports_as_the_typed_outbox_did(
    history: list[MessageEvent], chosen: EventSettings, page: int
) -> None:
    fast, typed = OutboxView(":memory:", settings=chosen), TypedOutbox(":memory:", settings=chosen)
    try:
        log = list(enumerate(history, start=1))
        for start in range(0, len(log), page):
            chunk, after = log[start : start + page], start
            fast.process([(p, as_record(e)) for p, e in chunk], after=after)
            typed.process(chunk, after=after)
        assert rows(fast) == rows(typed)
    finally:
        fast.datastore.close()
        typed.datastore.close()


AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds: `isoformat` omits them


def _report(channel: Channel, status: str, contact: str | None, outcome: Outcome,
            attempt: int = 1) -> Observed:  # fmt: skip
    return Observed(
        originator_id=message_id(channel, PROVIDERS[channel], "pm-9"), originator_version=attempt,
        recorded_at=AT, channel=channel, provider=PROVIDERS[channel], provider_message_id="pm-9",
        status=status, occurred_at=AT, event_id=None, dedup_keys=("k",), details={},
        outcome=outcome, inferred=(), status_after=LIFECYCLES[channel].statuses[0],
        facts=ProviderFacts(contact=contact, link_url="https://x", bounce_type="b", group="g"),
    )  # fmt: skip


def test_the_corners_a_drawn_report_may_miss_publish_as_the_typed_publisher() -> None:
    """Each case the property could draw too rarely, every time: a second `processed`, an
    inbound message whose send record names its recipient, a report with no contact at all,
    facts on a status they do not belong to, a time with no microseconds."""
    recipient = Send(channel=Channel.SMS, provider="twilio", provider_message_id="pm-9",
                     to="+15551234567")  # fmt: skip
    cases: list[tuple[Published, Observed]] = [
        (Published(None, True), _report(Channel.SMS, "processed", None, Outcome.APPLIED)),
        (Published(None, True), _report(Channel.EMAIL, "processed", None, Outcome.LATE)),
        (Published(None, False), _report(Channel.EMAIL, "processed", None, Outcome.CONFLICT)),
        (
            Published(recipient, False),
            _report(Channel.SMS, "received", "+15550000000", Outcome.APPLIED),
        ),
        (Published(recipient, False), _report(Channel.SMS, "receiving", None, Outcome.APPLIED)),
        (NOTHING_PUBLISHED, _report(Channel.WHATSAPP, "delivered", None, Outcome.APPLIED)),
        (NOTHING_PUBLISHED, _report(Channel.EMAIL, "delivered", "nope", Outcome.APPLIED)),
        (NOTHING_PUBLISHED, _report(Channel.EMAIL, "open", None, Outcome.APPLIED)),
    ]
    for memory, event in cases:
        for chosen in CHOSEN_SETTINGS:
            fast_memory, fast = observed_rows(memory, as_record(event), chosen)
            typed_memory, tracks = publish(memory, event, chosen)
            assert (fast, fast_memory) == (typed_rows(tracks), typed_memory), (memory, event)
