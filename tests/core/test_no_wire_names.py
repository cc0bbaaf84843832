"""The core reads no provider's field names: no module of `engage_core` but the one holding the
upcaster (`engage_core/message/events.py`, for records from before typed facts) looks a key up
in a report's `details`; everything else reads `ProviderFacts`."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import engage_core
from engage_core.consent.keywords import DEFAULT_KEYWORDS, DEFAULT_WORDS, Keyword
from engage_core.observations import ProviderFacts

CORE = Path(engage_core.__file__).parent
UPCASTER = CORE / "message" / "events.py"


def _is_details(node: ast.expr) -> bool:
    """A name `details` (or `d`, the short name the core once used for it), or `x.details`."""
    if isinstance(node, ast.Name):
        return node.id in {"details", "d"}
    return isinstance(node, ast.Attribute) and node.attr == "details"


def _lookups(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        subscript = isinstance(node, ast.Subscript) and _is_details(node.value)
        lookup = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get", "pop", "setdefault", "__getitem__"}
            and _is_details(node.func.value)
        )
        if subscript or lookup:
            lines.append(getattr(node, "lineno", 0))
    return lines


def test_only_the_upcaster_module_looks_up_a_details_key() -> None:
    found = {
        str(path.relative_to(CORE)): lines
        for path in sorted(CORE.rglob("*.py"))
        if path != UPCASTER and (lines := _lookups(ast.parse(path.read_text())))
    }
    assert found == {}


def test_the_check_sees_a_lookup() -> None:
    assert _lookups(ast.parse("event.details['From']\ndetails.get('Body')")) == [1, 2]
    assert _lookups(ast.parse(UPCASTER.read_text()))  # the upcaster itself still does


WORDS = [(kind, word) for kind, words in DEFAULT_WORDS.items() for word in words]


@given(st.sampled_from(WORDS), st.sampled_from(["", " ", "\t", " \n"]), st.booleans())
def test_a_keyword_is_the_typed_text_whole(
    variant: tuple[Keyword, str], space: str, lower: bool
) -> None:
    kind, word = variant
    typed = space + (word.lower() if lower else word) + space
    assert DEFAULT_KEYWORDS.verdict(ProviderFacts(text=typed)) is kind
    assert DEFAULT_KEYWORDS.verdict(ProviderFacts(text=f"please {word}")) is None


def test_the_providers_verdict_wins_and_a_tapped_choice_is_no_keyword() -> None:
    assert DEFAULT_KEYWORDS.verdict(ProviderFacts(text="hello", opt_out="stop")) is Keyword.STOP
    unknown = ProviderFacts(text="START", opt_out="MAYBE")  # the user's own words still count
    assert DEFAULT_KEYWORDS.verdict(unknown) is Keyword.START
    assert DEFAULT_KEYWORDS.verdict(ProviderFacts(text="YES", choice="YES")) is None
    assert DEFAULT_KEYWORDS.verdict(ProviderFacts(choice="")) is None
    assert DEFAULT_KEYWORDS.verdict(ProviderFacts()) is None
