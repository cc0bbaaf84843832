"""Views kept from the event log with exactly-once tracking, rebuildable from position 0, in a
SQLite file or in PostgreSQL through one port (`ViewDatabase`)."""

from adapters.views.base import SQLiteView, View
from adapters.views.database import SQLiteViewDatabase, ViewCursor, ViewDatabase
from adapters.views.funnel import FunnelRow, FunnelView
from adapters.views.outbox import OutboxEntry, OutboxView
from adapters.views.runner import (
    VIEW_CLASSES,
    Views,
    catch_up,
    rebuild,
    views_location,
    views_of,
)
from adapters.views.status import MessageStatusView
from adapters.views.subscriptions import SubscriptionView

__all__ = [
    "VIEW_CLASSES",
    "FunnelRow",
    "FunnelView",
    "MessageStatusView",
    "OutboxEntry",
    "OutboxView",
    "SQLiteView",
    "SQLiteViewDatabase",
    "SubscriptionView",
    "View",
    "ViewCursor",
    "ViewDatabase",
    "Views",
    "catch_up",
    "rebuild",
    "views_location",
    "views_of",
]
