"""`GET /api/proof/{channel}/{key}`: a contact's consent history with provenance and its
evidence digest, as `engage proof` exports it."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "proof_routes"]

OPENAPI_PATHS: dict[str, Any] = {}
OPENAPI_SCHEMAS: dict[str, Any] = {}


def proof_routes(runtime: Runtime) -> list[Route]:
    """The routes over one runtime."""
    return []
