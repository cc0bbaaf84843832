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
        "a90af372-f533-5f0e-8d30-7b95d6058be9"
    )


def test_provider_case_does_not_matter() -> None:
    assert message_id(Channel.EMAIL, " SendGrid ", "x") == message_id(
        Channel.EMAIL, "sendgrid", "x"
    )
    assert message_id(Channel.SMS, "twilio", "x") != message_id(Channel.WHATSAPP, "twilio", "x")


def test_no_separator_can_make_two_messages_one() -> None:
    assert message_id(Channel.SMS, "a:b", "c") != message_id(Channel.SMS, "a", "b:c")
    assert message_id(Channel.SMS, 'a","b', "c") != message_id(Channel.SMS, "a", 'b","c')
