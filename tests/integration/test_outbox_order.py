"""The outbox publishes the same events whatever order a message's facts arrive in: one
`Processed` per message (send record or provider `processed`, whichever comes first), and the
same names and statuses for the rest."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.stores import open_application
from adapters.views import Views, catch_up
from engage_core import Observation, Send

FACTS: dict[str, list[Observation | Send]] = {
    "email": [
        Send.create("email", "sendgrid", "E1", to="jo@example.com", campaign_id="spring"),
        Observation.create(
            "email", "sendgrid", "E1", "processed", event_id="p", occurred_at="2026-03-01T10:00:00Z"
        ),
        Observation.create(
            "email", "sendgrid", "E1", "delivered", event_id="d", occurred_at="2026-03-01T10:00:05Z"
        ),
        Observation.create(
            "email", "sendgrid", "E1", "open", event_id="o", occurred_at="2026-03-01T10:03:00Z"
        ),
    ],
    "sms": [
        Send.create("sms", "twilio", "SM1", to="+12135618345"),
        Observation.create(
            "sms", "twilio", "SM1", "sent", event_id="s", occurred_at="2026-03-01T10:00:01Z"
        ),
        Observation.create(
            "sms", "twilio", "SM1", "delivered", event_id="d", occurred_at="2026-03-01T10:00:09Z"
        ),
    ],
}


def published(facts: list[Observation | Send]) -> Counter[str]:
    app = open_application("memory://")
    views = Views(":memory:")
    for fact in facts:  # one at a time, as they would arrive
        app.observe([fact])
    catch_up(app, [views.outbox])
    names = Counter(entry.event for entry in views.outbox.entries())
    views.close()
    return names


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(FACTS)), st.data())
def test_any_arrival_order_publishes_the_same_events(channel: str, data: st.DataObject) -> None:
    facts = FACTS[channel]
    order = data.draw(st.permutations(facts))
    assert published(order) == published(facts)
    assert published(order)[f"{channel.upper() if channel == 'sms' else 'Email'} Processed"] == 1
