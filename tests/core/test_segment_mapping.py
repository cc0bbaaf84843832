"""Domain events → Segment-spec track events: names, ids, who, and what publishes nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from engage_core import Observation, Send
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ChannelUpdateRecorded
from engage_core.consent.rules import (
    ConsentOutcome,
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
)
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.events import MessageEvent
from engage_core.message.evolve import evolve
from engage_core.message.state import MessageState
from engage_core.segment import (
    ALL_EVENT_NAMES,
    LEGACY_GROUP_UNSUBSCRIBED,
    EventSettings,
    consent_events,
    message_events,
)

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def decided(*items: Observation | Send) -> list[MessageEvent]:
    state: MessageState | None = None
    events: list[MessageEvent] = []
    for item in items:
        if isinstance(item, Send):
            event = decide_send(state, item, recorded_at=AT)
        else:
            event = decide_observation(state, item, recorded_at=AT)
        state = evolve(state, event)
        events.append(event)
    return events


def test_there_are_the_35_names_of_the_engage_events_source() -> None:
    assert len(ALL_EVENT_NAMES) == len(set(ALL_EVENT_NAMES)) == 35
    assert {"SMS Processed", "Email Group Unsubscribed", "WhatsApp Message Accepted",
            "Channel Subscription Updated", "Email Subscribed"} <= set(ALL_EVENT_NAMES)  # fmt: skip


def test_a_late_report_is_published_with_the_current_status_and_a_duplicate_is_not() -> None:
    send = Send.create("sms", "twilio", "SM1", to="+12135618345", campaign_id="spring")
    delivered = Observation.create("sms", "twilio", "SM1", "delivered", event_id="e2",
                                   occurred_at=AT)  # fmt: skip
    sent = Observation.create("sms", "twilio", "SM1", "sent", event_id="e1", occurred_at=AT)
    events = decided(send, delivered, sent, sent)
    published = [message_events(e, send) for e in events]
    assert [[t.event for t in p] for p in published] == [
        ["SMS Processed"], ["SMS Delivered"], ["SMS Sent"], [],
    ]  # fmt: skip
    late = published[2][0]
    assert late.properties["status"] == "delivered"  # the message's status after it
    assert late.properties["reported_status"] == "sent"
    assert late.properties["outcome"] == "late"
    assert late.properties["campaign_id"] == "spring"
    assert late.anonymous_id == hashlib.sha256(b"+12135618345").hexdigest()
    assert late.message_id == f"engage-{events[2].originator_id.hex}-3"
    assert len(late.message_id) <= 100
    assert late.as_segment()["anonymousId"] == late.anonymous_id


def test_a_known_user_is_the_user_id() -> None:
    send = Send.create("email", "sendgrid", "E1", to="jo@example.com", user_id="u-1")
    (event,) = decided(Observation.create("email", "sendgrid", "E1", "click",
                                          details={"url": "https://x.example/a"}))  # fmt: skip
    (track,) = message_events(event, send)
    assert (track.event, track.user_id, track.anonymous_id) == ("Email Link Clicked", "u-1", None)
    assert track.properties["link_url"] == "https://x.example/a"


def test_the_legacy_spelling_is_a_setting() -> None:
    details = {"email": "a@example.com", "group": "7"}
    (event,) = decided(Observation.create("email", "sendgrid", "E2", "group_unsubscribe",
                                          details=details))  # fmt: skip
    (default,) = message_events(event, None)
    (legacy,) = message_events(event, None, EventSettings(legacy_group_unsubscribed_spelling=True))
    assert default.event == "Email Group Unsubscribed"
    assert legacy.event == LEGACY_GROUP_UNSUBSCRIBED


def consent(
    before: SubscriptionStatus | None, after: SubscriptionStatus | None, user_id: str | None = None
) -> ChannelUpdateRecorded:
    key = ContactKey.parse("EMAIL", "jo@example.com")
    provenance = Provenance(SourceKind.API, "r1", AT, AT, user_id)
    update = Update(after or SubscriptionStatus.SUBSCRIBED, provenance)
    return ChannelUpdateRecorded(
        originator_id=key.subscription_id, originator_version=1, recorded_at=AT,
        channel=key.channel, key=key.key, update=update, outcome=ConsentOutcome.APPLIED, error=None,
        before=SubscriptionState(before), after=SubscriptionState(after),
    )  # fmt: skip


def test_consent_changes_publish_and_unchanged_ones_do_not() -> None:
    sub, unsub = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
    became = consent_events(consent(unsub, sub, user_id="u-9"))
    assert [t.event for t in became] == ["Channel Subscription Updated", "Email Subscribed"]
    assert became[0].properties["previous_status"] == "UNSUBSCRIBED"
    assert became[0].user_id == "u-9"
    assert len({t.message_id for t in became}) == 2
    assert consent_events(consent(sub, sub)) == []
    left = consent_events(consent(sub, unsub))
    assert [t.event for t in left] == ["Channel Subscription Updated"]
