"""Segment's Tracking API: `POST /v1/identify`, `/v1/track`, `/v1/batch` (being built)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "tracking_routes"]

OPENAPI_PATHS: dict[str, Any] = {}
OPENAPI_SCHEMAS: dict[str, Any] = {}


def tracking_routes(runtime: Runtime) -> list[Route]:
    return []
