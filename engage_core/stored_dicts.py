"""Direct dict builders for the events stored on the hot path: the same JSON as the cattrs
converter's, without its per-field dispatch.

Every observation a provider reports becomes one stored message event, and cattrs' generated
unstructure functions spend most of their time on what orjson does natively anyway: wrapping
optional fields, copying tuples into lists, walking `details` key by key. A builder here reads
each attribute once and hands orjson the value itself wherever orjson writes the very bytes the
converter's unstructured value would give (strings, numbers, enums by value, datetimes, tuples
of those, plain JSON mappings), and calls the converter's own hook for any other field, so its
output cannot drift from the converter's. A value orjson refuses (a non-JSON object inside
`details`, say) raises `TypeError` when dumped, and the caller falls back to the converter,
which then behaves as it always has. `tests/core/test_perf_stored_dicts.py` proves the JSON
byte-identical for generated events of every class built here.

Builders are made only for classes named explicitly (`build_dict_makers`). A field whose
converter hook a class overrides with one of its value's attributes (consent events store
their channel as its consent name, `EMAIL`) is named to the builder with that attribute, so
the builder writes what the override writes; any other override keeps its class on the
converter.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Union

import attrs
from cattrs import Converter
from cattrs.fns import identity

__all__ = ["DictMaker", "build_dict_makers"]

DictMaker = Callable[[Any], dict[str, Any]]

# The columns eventsourcing stores beside the JSON: never part of it.
_COLUMNS = frozenset({"originator_id", "originator_version"})
_NOTHING_SPELLED: Mapping[str, str] = {}
_RAW_LEAVES: tuple[type[Any], ...] = (str, int, float, bool, type(None), datetime)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _is_raw(tp: Any, converter: Converter) -> bool:
    """Whether orjson writes a value of type `tp` exactly as it writes the converter's
    unstructured form of it (so the value can be handed over as it is)."""
    if _is_union(tp):
        return all(_is_raw(arg, converter) for arg in typing.get_args(tp))
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple:  # the converter copies into a list: the same JSON array
        return len(args) == 2 and args[1] is Ellipsis and _is_raw(args[0], converter)
    if origin in (Mapping, dict):
        # plain JSON objects: orjson writes them as the converter's copy would be written, and
        # refuses (TypeError) whatever the converter would have turned into something else
        return args[:1] == (str,)
    if not isinstance(tp, type) or attrs.has(tp):
        return False
    leaf = issubclass(tp, _RAW_LEAVES) or issubclass(tp, enum.Enum)  # enums: by value
    return leaf and converter.get_unstructure_hook(tp) is identity


def _optional_of(tp: Any) -> Any | None:
    """`X` when `tp` is `X | None`, else None."""
    if not _is_union(tp):
        return None
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    return args[0] if len(args) == 1 and len(typing.get_args(tp)) == 2 else None


def _make(
    cls: type[Any],
    converter: Converter,
    nested: Collection[type[Any]],
    made: dict[type, DictMaker],
    shared: Collection[Any] = (),
    spelled: Mapping[str, str] = _NOTHING_SPELLED,
) -> DictMaker:
    if cls in made:
        return made[cls]
    attrs.resolve_types(cls)
    namespace: dict[str, Any] = {}
    items: list[str] = []
    top = cls not in nested
    for field in attrs.fields(cls):
        if top and field.name in _COLUMNS:
            continue
        if top and field.name in spelled:  # the attribute the class's override writes
            items.append(f"{field.name!r}: e.{field.name}.{spelled[field.name]}")
            continue
        value = _value_of(field.name, field.type, converter, nested, made, shared, namespace)
        items.append(f"{field.name!r}: {value}")
    class_version = getattr(cls, "class_version", 1) if top else 1
    if class_version > 1:
        items.append(f"'class_version': {class_version!r}")
    source = f"def make(e):\n    return {{{', '.join(items)}}}\n"
    exec(compile(source, f"<stored dict of {cls.__qualname__}>", "exec"), namespace)
    made[cls] = namespace["make"]
    return made[cls]


def _value_of(
    name: str,
    tp: Any,
    converter: Converter,
    nested: Collection[type[Any]],
    made: dict[type, DictMaker],
    shared: Collection[Any],
    namespace: dict[str, Any],
) -> str:
    """The expression a field's stored value is made by (helpers it calls go in `namespace`)."""
    value = f"e.{name}"
    inner = _optional_of(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum) and _is_raw(tp, converter):
        # orjson writes an enum as its value, fetched through the slow `value` property;
        # the value itself is the same JSON (something else there: AttributeError, fallback)
        return f"{value}._value_"
    if _is_raw(tp, converter):
        return value
    if tp in nested:
        make = namespace[f"_{name}"] = _make(tp, converter, nested, made, shared)
        common = [v for v in shared if type(v) is tp][:1]
        if common:  # the value most events hold: its object, made once
            namespace[f"_{name}_value"], namespace[f"_{name}_made"] = common[0], make(common[0])
            return f"(_{name}_made if {value} is _{name}_value else _{name}({value}))"
        return f"_{name}({value})"
    if inner is not None and inner in nested:
        namespace[f"_{name}"] = _make(inner, converter, nested, made, shared)
        return f"None if {value} is None else _{name}({value})"
    # whatever the converter does for this field, done by the converter
    namespace[f"_{name}"] = converter.get_unstructure_hook(tp)
    return f"_{name}({value})"


def build_dict_makers(
    converter: Converter,
    classes: Collection[type[Any]],
    nested: Collection[type[Any]],
    shared: Collection[Any] = (),
    spelled: Mapping[str, str] = _NOTHING_SPELLED,
) -> dict[type[Any], DictMaker]:
    """A builder for each event class in `classes`: its stored JSON object, without the
    columns and with `class_version` when above 1, as `converter.unstructure` gives it.
    Attrs values inside them of a class in `nested` are built the same way (their converter
    hooks must be the converter's default); any other field goes through its hook. A value
    in `shared` (an immutable one most events hold, such as "no facts") is built once and
    its object handed to every event holding it: orjson only reads it. `spelled` names the
    fields of the classes in `classes` stored as one attribute of their value (`channel` as
    `consent_name`), as the classes' converter hooks store them."""
    made: dict[type, DictMaker] = {}
    return {cls: _make(cls, converter, nested, made, shared, spelled) for cls in classes}
