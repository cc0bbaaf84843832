"""The provider adapters by name, configured from the environment (secrets never in code)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from adapters.providers.base import ProviderAdapter
from adapters.providers.meta import APP_SECRET_VAR, MetaAdapter
from adapters.providers.rotation import rotating
from adapters.providers.sendgrid import PUBLIC_KEY_VARIABLE, SendGridAdapter
from adapters.providers.twilio import AUTH_TOKEN_ENV_VAR, TwilioAdapter

PROVIDERS = ("twilio", "sendgrid", "meta")

# What each provider's webhook body is, for a captured body replayed without its headers.
DEFAULT_CONTENT_TYPES = {
    "twilio": "application/x-www-form-urlencoded",
    "sendgrid": "application/json",
    "meta": "application/json",
}

# The variable holding each provider's signing secret (a comma-separated list when rotating).
SECRET_VARIABLES = {
    "twilio": AUTH_TOKEN_ENV_VAR,
    "sendgrid": PUBLIC_KEY_VARIABLE,
    "meta": APP_SECRET_VAR,
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


def rotating_adapter_for(
    provider: str, environ: Mapping[str, str] | None = None
) -> ProviderAdapter:
    """`adapter_for`, its secret variable read as a comma-separated list (a secret being
    rotated): one adapter per secret, a request verifying when any one verifies it
    (`adapters.providers.rotation`)."""
    env = os.environ if environ is None else environ
    if provider not in SECRET_VARIABLES:
        return adapter_for(provider, env)  # says the provider is unknown
    return rotating(lambda given: adapter_for(provider, given), SECRET_VARIABLES[provider], env)
