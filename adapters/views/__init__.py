"""Views kept from the event log with exactly-once tracking, rebuildable from position 0."""

from adapters.views.base import SQLiteView
from adapters.views.funnel import FunnelRow, FunnelView
from adapters.views.outbox import OutboxEntry, OutboxView
from adapters.views.runner import VIEW_CLASSES, Views, catch_up, rebuild, views_location
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
    "SubscriptionView",
    "Views",
    "catch_up",
    "rebuild",
    "views_location",
]
