"""Engage's own API under `/api/`: what the `engage` verbs answer, over HTTP, behind a Bearer
token (`ENGAGE_API_TOKEN`). `docs/service.md` documents each route.

| route | as |
|---|---|
| `POST /api/messages` | `record_send` (a send record) |
| `GET /api/messages/{message_id}`, `GET /api/messages?channel=&provider_message_id=` | `engage message` |
| `GET /api/subscriptions/{channel}/{key}` | `engage subscription` |
| `GET /api/can-send` | `engage can-send` |
| `POST /api/subscriptions/csv`, `GET /api/imports/{id}/errors.csv` | `engage subscriptions import` |
| `GET /api/events` | `engage events` |
| `GET /api/quarantine` | `engage quarantine list` |
| `GET /api/suppressions/{channel}/{key}`, `POST …/lift` | `engage suppression show`, `lift` |
| `GET /api/proof/{channel}/{key}` | `engage proof` |

Each concern is a module of its own (`api_messages`, `api_consent`, `api_csv`, `api_log`,
`api_suppression`, `api_proof`, over `api_common`); this one gathers their routes and their OpenAPI operations and schemas, which
`adapters.web.openapi` reads from here.
"""  # noqa: E501 - a table

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from adapters.web import (
    api_consent,
    api_csv,
    api_log,
    api_messages,
    api_proof,
    api_suppression,
)
from adapters.web.runtime import Runtime

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS", "api_routes"]

_MODULES = (api_messages, api_consent, api_csv, api_log, api_suppression, api_proof)

OPENAPI_PATHS: dict[str, Any] = {}
OPENAPI_SCHEMAS: dict[str, Any] = {}
for _module in _MODULES:
    OPENAPI_PATHS.update(_module.OPENAPI_PATHS)
    OPENAPI_SCHEMAS.update(_module.OPENAPI_SCHEMAS)


def api_routes(runtime: Runtime) -> list[Route]:
    """Every `/api/` route over one runtime (the CSV limits and the upload limit are read
    from the environment now: a bad setting stops the service at start)."""
    return [
        *api_messages.message_routes(runtime),
        *api_consent.consent_routes(runtime),
        *api_csv.csv_routes(runtime),
        *api_log.log_routes(runtime),
        *api_suppression.suppression_routes(runtime),
        *api_proof.proof_routes(runtime),
    ]
