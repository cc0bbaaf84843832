"""Message ids are RFC 4122 version-5 UUIDs, stable across releases."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from engage_core import Channel, message_id
from engage_core.ids import ENGAGE_NAMESPACE, uuid5


@given(st.text())
def test_uuid5_is_the_standard_one(name: str) -> None:
    assert uuid5(name) == uuid.uuid5(ENGAGE_NAMESPACE, name)


def test_ids_are_stable_across_releases() -> None:
    # stored aggregates are found by these ids: this value must never change
    assert message_id(Channel.SMS, "twilio", "SM1") == uuid.UUID(
        "a15271f5-cb37-584c-abf4-456fca3f8b25"
    )


def test_provider_case_does_not_matter() -> None:
    assert message_id(Channel.EMAIL, " SendGrid ", "x") == message_id(
        Channel.EMAIL, "sendgrid", "x"
    )
    assert message_id(Channel.SMS, "twilio", "x") != message_id(Channel.WHATSAPP, "twilio", "x")
