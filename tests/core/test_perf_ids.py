"""The UUIDs `uuid5` makes without `UUID.__init__` behave as the standard ones in every way a
store, a dict or a pickle sees."""

from __future__ import annotations

import copy
import pickle
import uuid

from hypothesis import given
from hypothesis import strategies as st

from engage_core import ids
from engage_core.channels import Channel
from engage_core.ids import ENGAGE_NAMESPACE, uuid5


@given(st.text())
def test_made_uuids_are_standard_uuids(name: str) -> None:
    made = uuid5(name)
    standard = uuid.uuid5(ENGAGE_NAMESPACE, name)
    assert type(made) is uuid.UUID
    assert made == standard
    assert hash(made) == hash(standard)
    assert (str(made), made.hex, made.version, made.variant) == (
        str(standard),
        standard.hex,
        5,
        uuid.RFC_4122,
    )
    assert made.is_safe is standard.is_safe
    assert pickle.loads(pickle.dumps(made)) == made
    assert copy.deepcopy(made) == made
    assert uuid5(name.encode()) == made


@given(st.sampled_from(list(Channel)), st.text(min_size=1), st.text(), st.booleans())
def test_remembered_message_ids_are_the_ids_made_afresh(
    channel: Channel, provider: str, provider_message_id: str, full: bool
) -> None:
    if full:  # the next id made clears what is remembered
        ids._MESSAGE_IDS.clear()
        ids._MESSAGE_IDS.update(
            {(str(n), "", ""): uuid.UUID(int=n) for n in range(ids._MESSAGE_IDS_KEPT)}
        )
    name = ids.name_of(
        "message", channel.value, ids.normalise_provider(provider), provider_message_id
    )
    expected = uuid.uuid5(ENGAGE_NAMESPACE, name.decode())
    assert ids.message_id(channel, provider, provider_message_id) == expected
    assert ids.message_id(channel, provider, provider_message_id) == expected  # remembered
    assert len(ids._MESSAGE_IDS) <= ids._MESSAGE_IDS_KEPT
