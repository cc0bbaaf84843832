"""Provider webhooks (Twilio SMS and WhatsApp, SendGrid, Meta WhatsApp Cloud): verified over
the raw bytes, parsed, and mapped to the core's inputs."""

from adapters.providers.base import (
    BodyRefused,
    Headers,
    InboundRequest,
    Parsed,
    ProviderAdapter,
    QuarantinedElement,
    Refused,
    SignatureRefused,
)
from adapters.providers.rotation import RotatingAdapter

__all__ = [
    "BodyRefused",
    "Headers",
    "InboundRequest",
    "Parsed",
    "ProviderAdapter",
    "QuarantinedElement",
    "Refused",
    "RotatingAdapter",
    "SignatureRefused",
]
