"""The provider adapters by name, configured from the environment (secrets never in code)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from adapters.providers.base import ProviderAdapter
from adapters.providers.meta import MetaAdapter
from adapters.providers.sendgrid import SendGridAdapter
from adapters.providers.twilio import TwilioAdapter

PROVIDERS = ("twilio", "sendgrid", "meta")

# What each provider's webhook body is, for a captured body replayed without its headers.
DEFAULT_CONTENT_TYPES = {
    "twilio": "application/x-www-form-urlencoded",
    "sendgrid": "application/json",
    "meta": "application/json",
}


def adapter_for(provider: str, environ: Mapping[str, str] | None = None) -> ProviderAdapter:
    """One provider's adapter, with its secret from `environ` (default: the process
    environment); `ValueError` naming the variable when the secret cannot be used."""
    env = os.environ if environ is None else environ
    if provider == "twilio":
        return TwilioAdapter.from_environment(env)
    if provider == "sendgrid":
        return SendGridAdapter.from_environment(env)
    if provider == "meta":
        return MetaAdapter.from_environment(env)
    raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
