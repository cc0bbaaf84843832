"""The signer `open_application` gives the application, from the deployment's environment.

Links are optional: with `ENGAGE_LINK_SECRET` unset the application has none (its link methods
say which variables to set). A setting that is given but cannot be used (a short secret, a
missing or plain-http `ENGAGE_PUBLIC_URL`, a bad `ENGAGE_LINK_EXPIRES`) is a `ValueError`
naming the variable from `links_from_environment`, for whoever wants to fail at start-up (the
service, `engage links`); `configure_links` keeps it as the application's `links_problem`
instead, so opening a store never fails over links and the first link asked for says why.
Each of the comma-separated secrets is remembered as a secret, so none is printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.redaction import remember

if TYPE_CHECKING:  # imported where used: `engage --help` must not load the core
    from engage_core.application_links import LinkMethods
    from engage_core.links import LinkSigner

__all__ = ["configure_links", "links_from_environment"]


def links_from_environment(environ: Mapping[str, str] | None = None) -> LinkSigner | None:
    """The deployment's `LinkSigner`, or None when `ENGAGE_LINK_SECRET` is unset or blank;
    `ValueError` naming the variable that cannot be used (never a secret)."""
    from engage_core.links import SECRET_VAR, LinkSettings

    env = os.environ if environ is None else environ
    secret = env.get(SECRET_VAR, "")
    if not secret.strip():
        return None
    remember(*(part.strip() for part in secret.split(",")))
    from engage_core.consent.confirmation import ConsentSettings

    # a confirmation link lives as long as the PENDING it confirms (ENGAGE_CONFIRMATION_HOURS)
    window = ConsentSettings.from_environment(env).confirmation_window
    return LinkSettings.from_environment(env).signer(confirm_expires_in=window)


def configure_links(app: LinkMethods, environ: Mapping[str, str] | None = None) -> None:
    """Give `app` the deployment's signer; settings that cannot be used leave it without one,
    their problem kept for the first link asked for."""
    try:
        app.links, app.links_problem = links_from_environment(environ), None
    except ValueError as error:
        app.links, app.links_problem = None, str(error)
