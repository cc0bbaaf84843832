"""Engage over HTTP: the provider webhooks and health checks as an ASGI app (Starlette).

    from adapters.web import create_app
    app = create_app()  # serve with uvicorn, or Mount("/engage", app) in your own

`handle_webhook` answers one request as plain values, for Django, Flask and the like.
Needs the `server` extra (Starlette, Uvicorn). See docs/service.md.
"""

from adapters.web.app import create_app, create_app_from_environment
from adapters.web.handler import handle_webhook
from adapters.web.settings import WebSettings

__all__ = ["WebSettings", "create_app", "create_app_from_environment", "handle_webhook"]
