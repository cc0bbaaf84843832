"""Everything that touches the outside world: stores, the `engage` CLI, and (later) provider
inputs, destinations and the web service. Nothing in `engage_core` imports from here.

The names below are loaded on first use (module `__getattr__`), so that importing one adapter
(the CLI's parser, say) does not import the stores, eventsourcing and the core with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.stores import DEFAULT_STORE_URL, StoreURLError, open_application, store_env

__all__ = ["DEFAULT_STORE_URL", "StoreURLError", "open_application", "store_env"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from adapters import stores

        return getattr(stores, name)
    raise AttributeError(f"module 'adapters' has no attribute {name!r}")
