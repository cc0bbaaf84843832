"""Everything that touches the outside world: stores, provider webhooks, views, destinations
and the `engage` CLI. Nothing in `engage_core` imports from here.

The facade an embedding service needs::

    from adapters import InboundRequest, adapter_for, ingest, open_application

    app = open_application("sqlite:///engage.db")  # or postgresql://…, memory://
    twilio = adapter_for("twilio")  # its secret from ENGAGE_TWILIO_AUTH_TOKEN
    report = ingest(app, twilio, InboundRequest(body, headers, url=url))  # applied or held

Provider adapters can also be made directly: `TwilioAdapter(auth_token)`,
`SendGridAdapter(public_key, max_age=...)`, `MetaAdapter(app_secret, verify_token=...)`.

The names below load on first use (module `__getattr__`), so importing one adapter (the CLI's
parser, say) does not import the stores, eventsourcing and the core with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.providers.base import InboundRequest, ProviderAdapter
    from adapters.providers.ingest import IngestReport, ingest
    from adapters.providers.meta import MetaAdapter
    from adapters.providers.registry import PROVIDERS, adapter_for
    from adapters.providers.sendgrid import SendGridAdapter
    from adapters.providers.twilio import TwilioAdapter
    from adapters.stores import DEFAULT_STORE_URL, StoreURLError, open_application, store_env

_HOMES: dict[str, str] = {
    "DEFAULT_STORE_URL": "adapters.stores",
    "InboundRequest": "adapters.providers.base",
    "IngestReport": "adapters.providers.ingest",
    "MetaAdapter": "adapters.providers.meta",
    "PROVIDERS": "adapters.providers.registry",
    "ProviderAdapter": "adapters.providers.base",
    "SendGridAdapter": "adapters.providers.sendgrid",
    "StoreURLError": "adapters.stores",
    "TwilioAdapter": "adapters.providers.twilio",
    "adapter_for": "adapters.providers.registry",
    "ingest": "adapters.providers.ingest",
    "open_application": "adapters.stores",
    "store_env": "adapters.stores",
}

__all__ = [
    "DEFAULT_STORE_URL",
    "PROVIDERS",
    "InboundRequest",
    "IngestReport",
    "MetaAdapter",
    "ProviderAdapter",
    "SendGridAdapter",
    "StoreURLError",
    "TwilioAdapter",
    "adapter_for",
    "ingest",
    "open_application",
    "store_env",
]


# engage_core.lazy's hook, written out here: `engage --help` imports `adapters` and must not
# import the core at all


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'adapters' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
