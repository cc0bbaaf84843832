"""The contact's own pages: the preference center, the one-click unsubscribe and its
confirmation page, and the double opt-in confirmation, each behind a signed link."""

from __future__ import annotations

from starlette.routing import Route

from adapters.web.runtime import Runtime

__all__ = ["page_routes"]


def page_routes(runtime: Runtime) -> list[Route]:
    """The pages' routes over one runtime."""
    return []
