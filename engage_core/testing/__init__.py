"""Testing your own service against Engage: Hypothesis strategies for Engage's inputs and for
the raw requests providers post, the providers' signers and test keys, `EngageModel` (a state
machine to subclass); the same extra registers a pytest plugin (`adapters.pytest_plugin`:
fixtures `engage_app`, `engage_sqlite_app`, `engage_server`). Install with the `testing`
extra: `pip install 'engage-core[testing]'`.

This is the one part of `engage_core` that imports Hypothesis; nothing else in the core does,
and `import engage_core.testing` loads nothing until a name is used, so the pytest plugin and
Hypothesis' type registration cost a program that never draws an example next to nothing.
Guide and examples: docs/simulation.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engage_core.lazy import lazy_names

if TYPE_CHECKING:
    from engage_core.simulation.signing import (
        TestKeys,
        sign_meta,
        sign_sendgrid,
        sign_twilio,
        test_keys,
    )
    from engage_core.testing.arrival import disorder, subscription_updates
    from engage_core.testing.model import EngageModel
    from engage_core.testing.providers import (
        meta_notifications,
        sendgrid_batches,
        twilio_callbacks,
    )
    from engage_core.testing.registration import register_type_strategies
    from engage_core.testing.strategies import (
        EPOCH,
        channels,
        contacts,
        lifecycles,
        provider_message_ids,
        reports,
        sends,
    )

# where each public name lives
_HOMES: dict[str, str] = {
    "EPOCH": "engage_core.testing.strategies",
    "EngageModel": "engage_core.testing.model",
    "TestKeys": "engage_core.simulation.signing",
    "channels": "engage_core.testing.strategies",
    "contacts": "engage_core.testing.strategies",
    "disorder": "engage_core.testing.arrival",
    "lifecycles": "engage_core.testing.strategies",
    "meta_notifications": "engage_core.testing.providers",
    "provider_message_ids": "engage_core.testing.strategies",
    "register_type_strategies": "engage_core.testing.registration",
    "reports": "engage_core.testing.strategies",
    "sendgrid_batches": "engage_core.testing.providers",
    "sends": "engage_core.testing.strategies",
    "sign_meta": "engage_core.simulation.signing",
    "sign_sendgrid": "engage_core.simulation.signing",
    "sign_twilio": "engage_core.simulation.signing",
    "subscription_updates": "engage_core.testing.arrival",
    "test_keys": "engage_core.simulation.signing",
    "twilio_callbacks": "engage_core.testing.providers",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "EPOCH",
    "EngageModel",
    "TestKeys",
    "channels",
    "contacts",
    "disorder",
    "lifecycles",
    "meta_notifications",
    "provider_message_ids",
    "register_type_strategies",
    "reports",
    "sendgrid_batches",
    "sends",
    "sign_meta",
    "sign_sendgrid",
    "sign_twilio",
    "subscription_updates",
    "test_keys",
    "twilio_callbacks",
]
