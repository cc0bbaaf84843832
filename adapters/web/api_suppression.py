"""`/api/suppressions`: a contact's suppressions, and an operator lifting one with a reason."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "suppression_routes"]

OPENAPI_PATHS: dict[str, Any] = {}
OPENAPI_SCHEMAS: dict[str, Any] = {}


def suppression_routes(runtime: Runtime) -> list[Route]:
    """The routes over one runtime."""
    return []
