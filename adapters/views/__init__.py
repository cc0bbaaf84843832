"""Views kept from the event log with exactly-once tracking, rebuildable from position 0."""

from adapters.views.base import SQLiteView
from adapters.views.outbox import OutboxEntry, OutboxView
from adapters.views.runner import VIEW_CLASSES, Views, catch_up, rebuild, views_location

__all__ = [
    "VIEW_CLASSES",
    "OutboxEntry",
    "OutboxView",
    "SQLiteView",
    "Views",
    "catch_up",
    "rebuild",
    "views_location",
]
