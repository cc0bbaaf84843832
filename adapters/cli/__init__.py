"""The `engage` command line: thin; it parses, calls the application, renders JSON.

`main(argv)` is the console script's entry point; each verb's handler module is imported only
when that verb runs, so `engage --help` loads no store, core or JSON library. `main` itself
loads on first use, so `python -m adapters.cli.main` runs the module once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.cli.main import main

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from adapters.cli.main import main

        return main
    raise AttributeError(f"module 'adapters.cli' has no attribute {name!r}")
