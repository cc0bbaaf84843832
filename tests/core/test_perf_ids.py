"""The UUIDs `uuid5` makes without `UUID.__init__` behave as the standard ones in every way a
store, a dict or a pickle sees."""

from __future__ import annotations

import copy
import pickle
import uuid

from hypothesis import given
from hypothesis import strategies as st

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
