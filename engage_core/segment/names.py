"""The 35 track event names of the Engage Events Source (DOMAIN.md §1), derived from the
lifecycle tables (one name per status or engagement that Segment names) plus the consent ones.

Statuses Segment has no name for (Twilio `accepted`, `scheduled`, `canceled`,
`partially_delivered` on SMS; `processed` and those on WhatsApp) are kept on the message and in
the status view, and published as nothing: inventing names would break downstream schemas.
"""

from __future__ import annotations

from engage_core.channels import Channel
from engage_core.lifecycles import LIFECYCLES

CHANNEL_SUBSCRIPTION_UPDATED = "Channel Subscription Updated"
GROUP_SUBSCRIPTION_UPDATED = "Group Subscription Updated"
EMAIL_SUBSCRIBED = "Email Subscribed"  # the EMAIL channel became SUBSCRIBED
GROUP_UNSUBSCRIBED = "Email Group Unsubscribed"
# Segment's table spelled it so until 2024; downstream data may already use it (a setting).
LEGACY_GROUP_UNSUBSCRIBED = "Email Group Unsusbcribed"


def _names(channel: Channel) -> tuple[str, ...]:
    rules = LIFECYCLES[channel]
    named = [rules.event_names.get(s) for s in rules.statuses]
    if channel is Channel.EMAIL:
        named += list(rules.engagement_names.values())
    return tuple(name for name in named if name)


def _all() -> tuple[str, ...]:
    names: list[str] = []
    for channel in (Channel.SMS, Channel.EMAIL, Channel.WHATSAPP):
        names.extend(_names(channel))
        if channel is Channel.EMAIL:
            names.append(EMAIL_SUBSCRIBED)
    names += [CHANNEL_SUBSCRIPTION_UPDATED, GROUP_SUBSCRIPTION_UPDATED]
    return tuple(names)


ALL_EVENT_NAMES: tuple[str, ...] = _all()
