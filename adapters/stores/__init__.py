"""Where Engage keeps its events: open the application on a store URL.

`open_application("sqlite:///engage.db")` (or `postgresql://…`, `memory://`) is all an
embedding service needs; `store_env` gives the eventsourcing settings of a URL for an
application class of your own. See `adapters.stores.urls` for what each URL means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.stores.urls import (
    DEFAULT_STORE_URL,
    STORE_ENV_VAR,
    StoreURLError,
    store_env,
    store_url_from_environment,
)

if TYPE_CHECKING:  # imported where used: `engage --help` must not load eventsourcing
    from engage_core import EngageApplication

__all__ = [
    "DEFAULT_STORE_URL",
    "STORE_ENV_VAR",
    "StoreURLError",
    "open_application",
    "store_env",
    "store_url_from_environment",
]


def open_application(
    url: str | None = None, *, environ: Mapping[str, str] | None = None
) -> EngageApplication:
    """Open the Engage application on a store URL (default: `ENGAGE_STORE` or engage.db),
    with the deployment's settings from `environ` (default: the process's environment;
    `adapters.stores.configure`: a `ValueError` names a variable that cannot be used). Pass
    `environ={}` for the defaults whatever the environment holds (a test's fixture)."""
    from adapters.stores.configure import configure
    from engage_core import EngageApplication

    app = EngageApplication(env=store_env(store_url_from_environment() if url is None else url))
    try:
        return configure(app, environ)
    except ValueError:
        app.close()
        raise
