"""Records written before a stored class changed still load: consent events before v2 (no
`unlock_only`, no `claimed_at`) and `Observed` before v2 (no `claimed_at`), as JSON written by
the earlier code, byte for byte; and each event's channel in the spelling it was stored in."""

from __future__ import annotations

from uuid import uuid4

import orjson
from eventsourcing.persistence import StoredEvent

from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ChannelUpdateRecorded
from engage_core.ids import name_of, uuid5
from engage_core.message.events import Observed
from engage_core.observations import ProviderFacts
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder

MAPPER = CattrsMapper(transcoder=OrjsonTranscoder())

CONSENT_V1 = (
    b'{"recorded_at":"2026-03-01T00:00:00+00:00","channel":"SMS","key":"+12135618345",'
    b'"update":{"status":"UNSUBSCRIBED","provenance":{"kind":"keyword","source_id":"SM1",'
    b'"effective_at":"2026-03-01T00:00:00+00:00","recorded_at":"2026-03-01T00:00:00+00:00",'
    b'"user_id":null},"lock":true,"unlock":false},"outcome":"applied","error":null,'
    b'"before":{"status":null,"locked_by_user":false,"effective_at":null},'
    b'"after":{"status":"UNSUBSCRIBED","locked_by_user":true,'
    b'"effective_at":"2026-03-01T00:00:00+00:00"}}'
)
OBSERVED_V1 = (
    b'{"recorded_at":"2026-03-01T00:00:00+00:00","channel":"sms","provider":"twilio",'
    b'"provider_message_id":"SM1","status":"delivered",'
    b'"occurred_at":"2026-03-01T00:00:00+00:00","event_id":null,"dedup_keys":["sha256:x"],'
    b'"details":{},"outcome":"applied","inferred":["sent"],"status_after":"delivered"}'
)


def test_a_consent_event_from_before_v2_loads_and_is_stored_as_the_current_version() -> None:
    stored = StoredEvent(uuid4(), 1, ChannelUpdateRecorded.TOPIC, CONSENT_V1)
    event = MAPPER.to_domain_event(stored)
    assert isinstance(event, ChannelUpdateRecorded)
    assert event.update.lock is True
    assert event.update.unlock_only is False
    assert event.update.provenance.claimed_at is None
    again = MAPPER.to_stored_event(event)
    assert orjson.loads(again.state)["class_version"] == ChannelUpdateRecorded.class_version == 4
    assert MAPPER.to_domain_event(again) == event


def test_an_observed_from_before_v2_loads_and_is_stored_as_the_current_version() -> None:
    stored = StoredEvent(uuid4(), 3, Observed.TOPIC, OBSERVED_V1)
    event = MAPPER.to_domain_event(stored)
    assert isinstance(event, Observed)
    assert event.claimed_at is None
    assert event.status_after == "delivered"
    again = MAPPER.to_stored_event(event)
    assert orjson.loads(again.state)["class_version"] == Observed.class_version == 3
    assert event.facts == ProviderFacts()
    assert MAPPER.to_domain_event(again) == event


def test_one_channel_enum_keeps_each_events_stored_spelling() -> None:
    """Messages and consent share one `Channel`; a consent event still stores the channel's
    consent name (`SMS`), a message event its value (`sms`), so the JSON every store holds is
    the JSON written now, and the contact ids made from those names stay the same."""
    consent = MAPPER.to_domain_event(
        StoredEvent(uuid4(), 1, ChannelUpdateRecorded.TOPIC, CONSENT_V1)
    )
    observed = MAPPER.to_domain_event(StoredEvent(uuid4(), 3, Observed.TOPIC, OBSERVED_V1))
    assert consent.channel is observed.channel is Channel.SMS
    assert orjson.loads(MAPPER.to_stored_event(consent).state)["channel"] == "SMS"
    assert orjson.loads(MAPPER.to_stored_event(observed).state)["channel"] == "sms"
    contact = ContactKey.parse(Channel.SMS, "+12135618345")
    assert contact.subscription_id == uuid5(name_of("channel-subscription", "SMS", contact.key))
