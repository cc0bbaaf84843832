"""Message lifecycles: one `transitions` Machine per channel, compiled at import into tables."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engage_core.channels import Channel
from engage_core.lifecycles import email, sms, whatsapp
from engage_core.lifecycles._compile import (
    Lifecycle,
    LifecycleDeclarationError,
    Relation,
    compile_lifecycle,
)

MACHINES: Mapping[Channel, Any] = MappingProxyType(
    {Channel.SMS: sms.MACHINE, Channel.EMAIL: email.MACHINE, Channel.WHATSAPP: whatsapp.MACHINE}
)

LIFECYCLES: Mapping[Channel, Lifecycle] = MappingProxyType(
    {
        Channel.SMS: compile_lifecycle(Channel.SMS, sms.MACHINE, sms.EVENT_NAMES),
        Channel.WHATSAPP: compile_lifecycle(
            Channel.WHATSAPP, whatsapp.MACHINE, whatsapp.EVENT_NAMES
        ),
        Channel.EMAIL: compile_lifecycle(
            Channel.EMAIL,
            email.MACHINE,
            email.EVENT_NAMES,
            engagement_names=email.ENGAGEMENT_NAMES,
            engagement_implies=email.ENGAGEMENT_IMPLIES,
            aliases=email.ALIASES,
        ),
    }
)


def lifecycle(channel: Channel) -> Lifecycle:
    """The compiled lifecycle of a channel."""
    return LIFECYCLES[channel]


__all__ = [
    "LIFECYCLES",
    "MACHINES",
    "Lifecycle",
    "LifecycleDeclarationError",
    "Relation",
    "compile_lifecycle",
    "lifecycle",
]
