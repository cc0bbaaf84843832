"""The deployment's settings, read from the environment and given to an application: the
consent keywords, the clock-skew allowance, double opt-in, the suppression policy and the link
signer. `open_application` applies them, so the `engage` verbs and the service run by the same
settings; an embedding service that builds its application itself may call `configure` too.

The core reads no environment: each setting has its own reader beside the code it configures,
and a bad value is a `ValueError` whose one line names the variable. Link settings are the
exception (`configure_links`): an unusable one is kept for the first link asked for, so a
deployment whose links are misconfigured still ingests, answers and delivers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from adapters.stores.links_settings import configure_links

if TYPE_CHECKING:
    from engage_core import EngageApplication

__all__ = ["Configuration", "configuration_from_environment", "configure"]


@attrs.frozen
class Configuration:
    """Every setting `configure` gives an application, read and checked at once."""

    policy_settings: Any
    clock_skew: Any
    consent_settings: Any
    suppression_policy: Any


def configuration_from_environment(environ: Mapping[str, str] | None = None) -> Configuration:
    """The settings `environ` (default: the process's) gives; `ValueError` naming the first
    variable that cannot be used."""
    from engage_core.clock import ClockSkewPolicy
    from engage_core.consent.confirmation import ConsentSettings
    from engage_core.consent.policies import PolicySettings
    from engage_core.suppression.settings import policy_from_environment

    env = os.environ if environ is None else environ
    return Configuration(
        policy_settings=PolicySettings.from_environment(env),
        clock_skew=ClockSkewPolicy.from_environment(env),
        consent_settings=ConsentSettings.from_environment(env),
        suppression_policy=policy_from_environment(env),
    )


def configure(
    app: EngageApplication, environ: Mapping[str, str] | None = None
) -> EngageApplication:
    """`app` with the settings `environ` gives (default: the process's); `ValueError` naming
    the variable that cannot be used."""
    settings = configuration_from_environment(environ)
    app.policy_settings = settings.policy_settings
    app.clock_skew = settings.clock_skew
    app.consent_settings = settings.consent_settings
    app.suppression_policy = settings.suppression_policy
    configure_links(app, environ)
    return app
