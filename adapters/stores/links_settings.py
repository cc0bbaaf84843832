"""The signer `open_application` gives the application, from the deployment's environment.

Links are optional: with `ENGAGE_LINK_SECRET` unset the application has none (its link methods
say which variables to set). Once it is set, a setting that cannot be used (a short secret, a
missing or plain-http `ENGAGE_PUBLIC_URL`, a bad `ENGAGE_LINK_EXPIRES`) is a `ValueError`
naming the variable, at start-up rather than at the first link a sender asks for. Each of the
comma-separated secrets is remembered as a secret, so none is ever printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.redaction import remember

if TYPE_CHECKING:  # imported where used: `engage --help` must not load the core
    from engage_core.links import LinkSigner

__all__ = ["links_from_environment"]


def links_from_environment(environ: Mapping[str, str] | None = None) -> LinkSigner | None:
    """The deployment's `LinkSigner`, or None when `ENGAGE_LINK_SECRET` is unset or blank."""
    from engage_core.links import SECRET_VAR, LinkSettings

    env = os.environ if environ is None else environ
    secret = env.get(SECRET_VAR, "")
    if not secret.strip():
        return None
    remember(*(part.strip() for part in secret.split(",")))
    return LinkSettings.from_environment(env).signer()
