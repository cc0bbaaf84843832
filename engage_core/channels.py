"""The three messaging channels Engage follows."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType


class Channel(Enum):
    """A messaging channel. Values are the lower-case names used on the wire and in JSON."""

    SMS = "sms"
    EMAIL = "email"
    WHATSAPP = "whatsapp"

    @classmethod
    def parse(cls, value: object) -> Channel:
        """Read a channel name in any letter case, with an error that names the choices."""
        if isinstance(value, Channel):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        choices = ", ".join(c.value for c in cls)
        raise ValueError(f"unknown channel {value!r}; expected one of: {choices}")


# The providers Engage knows on each channel, most usual first: tried in this order when a
# message is looked up by a provider's id without naming the provider.
USUAL_PROVIDERS: Mapping[Channel, tuple[str, ...]] = MappingProxyType(
    {
        Channel.SMS: ("twilio",),
        Channel.WHATSAPP: ("twilio", "meta"),
        Channel.EMAIL: ("sendgrid",),
    }
)
