"""Deterministic aggregate ids, so any input can be routed to its aggregate without a lookup."""

from __future__ import annotations

from uuid import UUID, uuid5

from engage_core.channels import Channel

# A fixed namespace of our own: changing it would orphan every stored aggregate.
ENGAGE_NAMESPACE = UUID("6d1f3c2a-4b8e-5a7d-9c0f-1e2d3c4b5a69")


def normalise_provider(provider: str) -> str:
    """Provider names compare without regard to case or surrounding space."""
    return provider.strip().lower()


def message_id(channel: Channel, provider: str, provider_message_id: str) -> UUID:
    """The id of the message a provider knows as `provider_message_id` on `channel`."""
    name = f"message:{channel.value}:{normalise_provider(provider)}:{provider_message_id}"
    return uuid5(ENGAGE_NAMESPACE, name)
