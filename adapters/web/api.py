"""Engage's own API under `/api/` (being built)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "api_routes"]

OPENAPI_PATHS: dict[str, Any] = {}
OPENAPI_SCHEMAS: dict[str, Any] = {}


def api_routes(runtime: Runtime) -> list[Route]:
    return []
