"""Everything that touches the outside world: stores, the `engage` CLI, and (later) provider
inputs, destinations and the web service. Nothing in `engage_core` imports from here."""

from adapters.stores import DEFAULT_STORE_URL, StoreURLError, open_application, store_env

__all__ = ["DEFAULT_STORE_URL", "StoreURLError", "open_application", "store_env"]
