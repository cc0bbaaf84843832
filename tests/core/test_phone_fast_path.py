"""The phone fast path answers exactly as `phonenumbers` does wherever it answers at all."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engage_core.consent.contacts import _nanp_fast, normalise_phone
from engage_core.observations import InvalidInput


def _by_phonenumbers(text: str, region: str) -> str | None:
    """What the slow path makes of `text`: E.164, or None where it refuses."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_digit = st.sampled_from("0123456789")
_digits = st.text(_digit, min_size=0, max_size=12)
_separator = st.sampled_from(["", "-", ".", " ", "  ", "/", "(", ")", "+", "\u00a0"])
_region = st.sampled_from(["US", "CA", "GB", "DE"])

# numbers written the ways people write them, and near misses of each
_shaped = st.builds(
    lambda parts, seps: "".join(p + s for p, s in zip(parts, seps, strict=False)),
    st.lists(_digits, min_size=1, max_size=5),
    st.lists(_separator, min_size=0, max_size=5),
)
_plus_one = st.builds(lambda rest: "+1" + rest, _digits)
_parenthesised = st.builds(
    lambda a, sep, b, sep2, c: f"({a}){sep}{b}{sep2}{c}", _digits, _separator, _digits, _separator,
    _digits,
)  # fmt: skip
_any_text = st.text(st.sampled_from("0123456789+-(). \u0663\uff11x#*"), min_size=0, max_size=16)


# the fast path's own shapes, with every part's length and first digit free, so its edges are hit
def _run(size: int) -> st.SearchStrategy[str]:
    """Mostly `size` digits, sometimes one fewer or one more."""
    exact = st.integers(0, 10**size - 1).map(lambda n: f"{n:0{size}d}")
    return st.one_of(exact, exact, exact, st.text(_digit, min_size=size - 1, max_size=size + 1))


_nanp_like = st.builds(
    lambda prefix, area, opened, sep1, exchange, sep2, line: (
        f"{prefix}({area}){sep1}{exchange}{sep2}{line}" if opened
        else f"{prefix}{area}{sep1}{exchange}{sep2}{line}"
    ),
    st.sampled_from(["", "", "", "+1", "+1", "+", "1", "+1 ", "+11", "01"]),
    _run(3),
    st.booleans(),
    st.sampled_from(["", "-", ".", " ", "  ", "/"]),
    _run(3),
    st.sampled_from(["", "-", ".", " ", "/"]),
    _run(4),
)  # fmt: skip
candidates = st.one_of(_shaped, _plus_one, _parenthesised, _any_text, _nanp_like, _nanp_like)

# every shape the fast path takes, over the whole of each part's range
_accepted = st.builds(
    lambda form, area, exchange, line: form.format(a=area, e=f"{exchange:03d}", n=f"{line:04d}"),
    st.sampled_from(["+1{a}{e}{n}", "({a}) {e}-{n}", "({a}){e}-{n}", "({a}) {e}{n}",
                     "({a}) {e}.{n}", "({a}) {e} {n}", "{a}-{e}-{n}", "{a}.{e}.{n}",
                     "{a} {e} {n}", "{a}{e}{n}"]),
    st.integers(200, 999),
    st.integers(0, 999),
    st.integers(0, 9999),
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(_accepted)
def test_every_shape_the_fast_path_takes_reads_as_phonenumbers_reads_it(text: str) -> None:
    fast = _nanp_fast(text, "US")
    assert fast is not None
    assert fast == _by_phonenumbers(text, "US")


@settings(max_examples=1500, deadline=None)
@given(candidates, _region)
@example("+12135618345", "US")
@example("+12135618345", "GB")
@example("(213) 561-8345", "US")
@example("(213)561-8345", "US")
@example("213-561-8345", "US")
@example("213.561.8345", "US")
@example("213 561 8345", "US")
@example("2135618345", "US")
@example("(213) 561-8345", "GB")
@example("(123) 555-5555", "US")
@example("+11235555555", "US")
@example("213-561.8345", "US")
def test_the_fast_path_agrees_with_phonenumbers_wherever_it_answers(text: str, region: str) -> None:
    fast = _nanp_fast(text, region)
    if fast is not None:
        assert fast == _by_phonenumbers(text, region)


@pytest.mark.parametrize(
    ("text", "region"),
    [("+12135618345", "US"), ("+12135618345", "DE"), ("(213) 561-8345", "US"),
     ("213-561-8345", "US"), ("213.561.8345", "US"), ("2135618345", "US")],
)  # fmt: skip
def test_the_shapes_files_mostly_hold_take_the_fast_path(text: str, region: str) -> None:
    assert _nanp_fast(text, region) == _by_phonenumbers(text, region)


@pytest.mark.parametrize(
    ("text", "region"),
    [("(213) 561-8345", "GB"), ("+1 213 561 8345", "US"), ("1-213-561-8345", "US"),
     ("(123) 555-5555", "US"), ("+44 20 7946 0958", "US"), ("213-561.8345", "US"),
     ("\uff12\uff11\uff13\uff15\uff16\uff11\uff18\uff13\uff14\uff15", "US")],
)  # fmt: skip
def test_other_shapes_are_left_to_phonenumbers(text: str, region: str) -> None:
    assert _nanp_fast(text, region) is None


@given(candidates, _region)
@settings(max_examples=300, deadline=None)
def test_normalise_phone_answers_as_phonenumbers_does(text: str, region: str) -> None:
    expected = _by_phonenumbers(text.strip(), region) if text.strip() else None
    try:
        got: str | None = normalise_phone(text, region)
    except InvalidInput:
        got = None
    assert got == expected
