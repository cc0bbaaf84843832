"""Hypothesis strategies for what a provider could send instead of a documented payload: the
same document with a value replaced, a field dropped or added (JSON), or the same form with
parameters changed, dropped or added. Signed afterwards, such bodies reach parsing and the core,
which is where a provider's new field or a malformed element has to be taken in stride."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from hypothesis import strategies as st

# JSON as orjson writes it: integers within 64 bits, finite floats.
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=3),
    max_leaves=6,
)  # fmt: skip

Path = tuple[str | int, ...]


def _paths(value: Any, here: Path = ()) -> list[Path]:
    """Every place in a JSON document, the root included."""
    found = [here]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*here, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*here, index))
    return found


def _replaced(value: Any, path: Path, new: Any, *, drop: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if drop and not rest:
            del copy[head]
        else:
            copy[head] = _replaced(value[head], rest, new, drop=drop)
        return copy
    assert isinstance(value, list)
    assert isinstance(head, int)
    items = list(value)
    if drop and not rest:
        del items[head]
    else:
        items[head] = _replaced(value[head], rest, new, drop=drop)
    return items


@st.composite
def json_mutations(draw: st.DrawFn, body: bytes, domain: st.SearchStrategy[Any]) -> bytes:
    """`body` (a JSON document) with one to three places replaced (by a value of `domain`, the
    provider's own words, or any JSON), dropped, or given a new field."""
    document = orjson.loads(body)
    values = domain | JSON_VALUES
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "drop" and path:
            document = _replaced(document, path, None, drop=True)
        elif action == "add" and isinstance(target := _at(document, path), dict):
            key = draw(st.text(max_size=10))
            document = _replaced(document, path, {**target, key: draw(values)}, drop=False)
        else:
            document = _replaced(document, path, draw(values), drop=False)
    return orjson.dumps(document)


def _at(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


@st.composite
def form_mutations(draw: st.DrawFn, body: bytes, domain: st.SearchStrategy[str]) -> bytes:
    """`body` (a form) with one to three parameters set (to one of the provider's own words
    from `domain`, or any text), dropped, or added, possibly repeated."""
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    names = sorted({name for name, _ in pairs}) or ["Body"]
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(names) | st.text(min_size=1, max_size=10))
        value = draw(domain | st.text(max_size=20))
        action = draw(st.sampled_from(["set", "drop", "add"]))
        if action == "drop":
            pairs = [(n, v) for n, v in pairs if n != name]
        elif action == "add":
            pairs.append((name, value))
        else:
            pairs = [(n, v) for n, v in pairs if n != name] + [(name, value)]
    return urlencode(pairs).encode()
