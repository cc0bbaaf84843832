"""The three messaging channels Engage follows, one enum for messages and consent alike."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from engage_core.errors import InvalidInput


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

    @property
    def consent_name(self) -> str:
        """The channel as Segment's subscription vocabulary spells it (`EMAIL`, `SMS`,
        `WHATSAPP`): in `messaging_subscriptions`, the subscription API, CSV cells, consent
        answers and views, stored consent events and the names contact ids are made from."""
        return self.name

    @classmethod
    def parse_consent(cls, value: object) -> Channel:
        """A channel as a consent input names it, in any letter case ("WhatsApp" appears in
        Segment's own examples); `InvalidInput` on field `type` naming the choices as
        Segment spells them."""
        if isinstance(value, Channel):
            return value
        if isinstance(value, str):
            found = cls.__members__.get(value.strip().upper())
            if found is not None:
                return found
        choices = ", ".join(sorted(c.consent_name for c in cls))
        raise InvalidInput("type", f"unknown channel {value!r}; expected one of: {choices}")


# The providers Engage knows on each channel, most usual first: tried in this order when a
# message is looked up by a provider's id without naming the provider.
USUAL_PROVIDERS: Mapping[Channel, tuple[str, ...]] = MappingProxyType(
    {
        Channel.SMS: ("twilio",),
        Channel.WHATSAPP: ("twilio", "meta"),
        Channel.EMAIL: ("sendgrid",),
    }
)
