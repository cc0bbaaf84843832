"""The size limits: settings read from an environment mapping (never from the process's own at
import), and the details limit every way in applies through `parse_observation`."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage_core import InvalidInput, parse_observation
from engage_core.limits import DEFAULT_LIMITS, SETTINGS, Limits, LimitSettingError

GOOD = {"channel": "sms", "provider": "twilio", "provider_message_id": "SM1",
        "status": "delivered"}  # fmt: skip


def test_the_defaults_are_the_documented_ones() -> None:
    assert Limits.from_environment({}) == DEFAULT_LIMITS
    assert attrs_values(DEFAULT_LIMITS) == {
        "observation_line_bytes": 1024 * 1024, "details_bytes": 64 * 1024,
        "provider_body_bytes": 1024 * 1024, "unauthenticated_body_prefix_bytes": 4 * 1024,
        "api_items": 1_000, "api_request_bytes": 4 * 1024 * 1024,
    }  # fmt: skip
    assert set(SETTINGS) == set(attrs_values(DEFAULT_LIMITS))
    assert all(name.startswith("ENGAGE_MAX_") for name in SETTINGS.values())


def attrs_values(limits: Limits) -> dict[str, int]:
    return {name: getattr(limits, name) for name in SETTINGS}


@given(st.sampled_from(sorted(SETTINGS)), st.integers(1, 1_000_000))
def test_each_setting_sets_its_limit_alone(field: str, value: int) -> None:
    limits = Limits.from_environment({SETTINGS[field]: f" {value} ", "ENGAGE_OTHER": "x"})
    assert getattr(limits, field) == value
    others = {k: v for k, v in attrs_values(limits).items() if k != field}
    assert others == {k: v for k, v in attrs_values(DEFAULT_LIMITS).items() if k != field}


@given(
    st.sampled_from(sorted(SETTINGS)),
    st.one_of(
        st.text().filter(lambda t: t.strip() and not t.strip().lstrip("+-").isdigit()),
        st.integers(max_value=-1).map(str),
    ),
)
def test_a_bad_setting_is_refused_in_one_line_naming_it(field: str, text: str) -> None:
    with pytest.raises(LimitSettingError) as raised:
        Limits.from_environment({SETTINGS[field]: text})
    message = str(raised.value)
    assert message.startswith(f"{SETTINGS[field]}: a whole number")
    assert "\n" not in message.replace(repr(text), "")


def test_zero_is_refused_except_for_the_prefix_kept() -> None:
    with pytest.raises(LimitSettingError, match=r"ENGAGE_MAX_API_ITEMS: .* from 1 to"):
        Limits.from_environment({"ENGAGE_MAX_API_ITEMS": "0"})
    prefix = SETTINGS["unauthenticated_body_prefix_bytes"]
    assert Limits.from_environment({prefix: "0"}).unauthenticated_body_prefix_bytes == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)  # fmt: skip


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5), st.integers(1, 400))
def test_details_are_refused_exactly_when_their_json_is_over_the_limit(
    details: dict[str, object], limit: int
) -> None:
    size = len(orjson.dumps(details))
    limits = Limits(details_bytes=limit)
    if size <= limit or not details:
        assert parse_observation({**GOOD, "details": details}, limits=limits).details == details
        return
    with pytest.raises(InvalidInput) as raised:
        parse_observation({**GOOD, "details": details}, limits=limits)
    assert raised.value.field == "details"
    assert str(raised.value) == (
        f"details: {size} bytes as JSON, over the limit of {limit} (ENGAGE_MAX_DETAILS_BYTES)"
    )


def test_the_default_details_limit_applies_when_none_is_given() -> None:
    over = {"x": "a" * (64 * 1024)}
    with pytest.raises(InvalidInput, match="over the limit of 65536"):
        parse_observation({**GOOD, "details": over})


@given(st.sampled_from(sorted(SETTINGS)), st.integers(2**30 + 1, 2**80))
def test_a_limit_too_large_to_be_one_is_refused(field: str, value: int) -> None:
    """Reading allocates up to a limit: one of 10**20 would fail every read, not bound it."""
    with pytest.raises(LimitSettingError, match=SETTINGS[field]):
        Limits.from_environment({SETTINGS[field]: str(value)})
