"""`Observed` stored at class_version 2 (before typed facts), as the code of then wrote it, byte
for byte: it loads with the facts its details held, and publishes the same Segment events as
then (the expected events below were made by that code from the same records)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from engage_core.message.events import Observed
from engage_core.observations import ProviderFacts
from engage_core.segment.mapping import message_events
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder

MAPPER = CattrsMapper(transcoder=OrjsonTranscoder())

TWILIO_STOP_V2 = (
    b'{"recorded_at":"2026-03-01T00:00:00+00:00","channel":"sms","provider":"twilio","provid'
    b'er_message_id":"SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d","status":"received","occurred_at":'
    b'"2026-03-01T00:00:00+00:00","event_id":null,"dedup_keys":["key:[\\"SM9a8b7c6d5e4f3a2b1c'
    b'0d9e8f7a6b5c4d\\",\\"received\\",null,null]"],"details":{"AccountSid":"ACXXXXXXXXXXXXXXXX'
    b'XXXXXXXXXXXXXXXX","ApiVersion":"2010-04-01","Body":"STOP","From":"+12135618345","FromC'
    b'ity":"BEVERLY HILLS","FromCountry":"US","FromState":"CA","FromZip":"90210","MessageSid'
    b'":"SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d","NumMedia":"0","NumSegments":"1","SmsMessageSid'
    b'":"SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d","SmsSid":"SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d","'
    b'SmsStatus":"received","To":"+15017122661","ToCity":"","ToCountry":"US","ToState":"CA",'
    b'"ToZip":""},"outcome":"applied","inferred":[],"status_after":"received","claimed_at":n'
    b'ull,"class_version":2}'
)

META_FAILED_V2 = (
    b'{"recorded_at":"2026-03-01T00:00:00+00:00","channel":"whatsapp","provider":"meta","pro'
    b'vider_message_id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBIzRjBBMjc1QjFCRjc4QkQ3NkQA","status'
    b'":"failed","occurred_at":"2025-06-18T16:23:22+00:00","event_id":null,"dedup_keys":["ke'
    b'y:[\\"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBIzRjBBMjc1QjFCRjc4QkQ3NkQA\\",\\"failed\\",175026380'
    b'2]"],"details":{"errors":[{"code":131050,"error_data":{"details":"Unable to deliver th'
    b"e message. This recipient has chosen to stop receiving marketing messages on WhatsApp "
    b'from your business"},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/s'
    b'upport/error-codes/","message":"Unable to deliver the message. This recipient has chos'
    b'en to stop receiving marketing messages on WhatsApp from your business","title":"Unabl'
    b"e to deliver the message. This recipient has chosen to stop receiving marketing messag"
    b'es on WhatsApp from your business"}],"id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBIzRjBBMjc1Q'
    b'jFCRjc4QkQ3NkQA","recipient_id":"16505551234","status":"failed","timestamp":"175026380'
    b'2"},"outcome":"applied","inferred":[],"status_after":"failed","claimed_at":null,"class'
    b'_version":2}'
)

SENDGRID_GROUP_V2 = (
    b'{"recorded_at":"2026-03-01T00:00:00+00:00","channel":"email","provider":"sendgrid","pr'
    b'ovider_message_id":"14c5d75ce93.dfd.64b469","status":"group_unsubscribe","occurred_at"'
    b':"2017-12-15T00:59:29+00:00","event_id":"ahSCB7xYcXFb-hEaawsPRw==","dedup_keys":["id:g'
    b'roup_unsubscribe:ahSCB7xYcXFb-hEaawsPRw==","key:[\\"14c5d75ce93.dfd.64b469.filter0001.1'
    b'6648.5515E0B88.0\\",\\"group_unsubscribe\\",1513299569,\\"http://www.sendgrid.com/\\",10]"]'
    b',"details":{"asm_group_id":10,"category":"cat facts","email":"example@test.com","event'
    b'":"group_unsubscribe","group":"10","ip":"255.255.255.255","sg_event_id":"ahSCB7xYcXFb-'
    b'hEaawsPRw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","sm'
    b'tp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","timestamp":1513299569,"url":"http://www.'
    b'sendgrid.com/","useragent":"Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.'
    b'1.4322; .NET CLR 2.0.50727)"},"outcome":"applied","inferred":["delivered"],"status_aft'
    b'er":"delivered","claimed_at":null,"class_version":2}'
)

# (stored JSON, aggregate id, the facts it loads with, the event published from it then)
CASES: list[tuple[bytes, str, ProviderFacts, dict[str, Any]]] = [
    (
        TWILIO_STOP_V2,
        "4462aa73-e81b-5f9b-8678-97795360ee75",
        ProviderFacts(contact="+12135618345", text="STOP"),
        {"anonymousId": "169b842cda808e850994d72b66ab8c7042bf2befc1b7fea0268e3afb563fbd94",
         "event": "SMS Received", "messageId": "engage-4462aa73e81b5f9b867897795360ee75-1",
         "properties": {"channel": "sms", "message_id": "4462aa73-e81b-5f9b-8678-97795360ee75",
                        "outcome": "applied", "provider": "twilio",
                        "provider_message_id": "SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
                        "reported_status": "received", "status": "received"}},
    ),
    (
        META_FAILED_V2,
        "c332ff43-1247-5cc1-a369-cf77160f5809",
        ProviderFacts(contact="+16505551234", error_code="131050"),
        {"anonymousId": "a2996076d3ad4af5dc818b908b3d8e354f26ededf7df0e0aa6ac354143805ee0",
         "event": "WhatsApp Message Failed",
         "messageId": "engage-c332ff4312475cc1a369cf77160f5809-1",
         "properties": {"channel": "whatsapp", "error_code": "131050",
                        "message_id": "c332ff43-1247-5cc1-a369-cf77160f5809",
                        "outcome": "applied", "provider": "meta",
                        "provider_message_id":
                            "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBIzRjBBMjc1QjFCRjc4QkQ3NkQA",
                        "reported_status": "failed", "status": "failed"}},
    ),
    (
        SENDGRID_GROUP_V2,
        "44e3c0d1-4682-5012-bd45-563534b8da28",
        ProviderFacts(contact="example@test.com", group="10"),
        {"anonymousId": "273f6ec2fc79031c824daff15d9415db2e8f2dd2a934b6b8b13540b5f94062b0",
         "event": "Email Group Unsubscribed",
         "messageId": "engage-44e3c0d146825012bd45563534b8da28-1",
         "properties": {"channel": "email", "group": "10",
                        "message_id": "44e3c0d1-4682-5012-bd45-563534b8da28",
                        "outcome": "applied", "provider": "sendgrid",
                        "provider_message_id": "14c5d75ce93.dfd.64b469",
                        "reported_status": "group_unsubscribe", "status": "delivered"}},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("stored", "aggregate", "facts", "published"), CASES)
def test_an_observed_from_v2_loads_with_the_facts_its_details_held(
    stored: bytes, aggregate: str, facts: ProviderFacts, published: dict[str, Any]
) -> None:
    assert orjson.loads(stored)["class_version"] == 2
    event = MAPPER.to_domain_event(StoredEvent(UUID(aggregate), 1, Observed.TOPIC, stored))
    assert isinstance(event, Observed)
    assert event.facts == facts
    assert event.details == orjson.loads(stored)["details"]  # the record as sent, kept whole
    again = MAPPER.to_stored_event(event)
    assert orjson.loads(again.state)["class_version"] == 3
    assert MAPPER.to_domain_event(again) == event


@pytest.mark.parametrize(("stored", "aggregate", "facts", "published"), CASES)
def test_a_rebuild_of_a_v2_observed_publishes_what_it_published_before(
    stored: bytes, aggregate: str, facts: ProviderFacts, published: dict[str, Any]
) -> None:
    event = MAPPER.to_domain_event(StoredEvent(UUID(aggregate), 1, Observed.TOPIC, stored))
    (track,) = message_events(event, None)
    body = track.as_segment()
    assert {key: body[key] for key in published} == published
