"""Public names loaded on first use (PEP 562), for a package whose `__init__` lists where each
name lives: `import engage_core` (or `adapters`, or `engage_core.testing`) then costs next to
nothing, and `engage --help` stays fast, while `from engage_core import X` works as ever."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`: a name is imported from its home module the
    first time it is asked for, then kept in `namespace` (the package's globals) as an
    ordinary attribute; `dir()` lists the package's `__all__`."""

    def load(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value  # once loaded, an ordinary attribute
        return value

    def listed() -> list[str]:
        return sorted(namespace["__all__"])

    return load, listed
