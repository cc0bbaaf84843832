"""Deterministic aggregate ids, so any input can be routed to its aggregate without a lookup."""

from __future__ import annotations

import hashlib
from uuid import UUID, SafeUUID

import orjson

from engage_core.channels import Channel

# A fixed namespace of our own: changing it would orphan every stored aggregate.
ENGAGE_NAMESPACE = UUID("6d1f3c2a-4b8e-5a7d-9c0f-1e2d3c4b5a69")

_NAMESPACE_BYTES = ENGAGE_NAMESPACE.bytes
# RFC 4122 version 5 bits: clear the version and variant fields, then set version 5, variant 10.
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_SET = (5 << 76) | (0x8000 << 48)
_sha1 = hashlib.sha1
_from_bytes = int.from_bytes
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = SafeUUID.unknown  # an enum member read through its class costs as much as a setattr

# Message ids already made, by the (channel, provider, provider message id) they were made of:
# a message's reports (sent, delivered, opened, clicked…) arrive one after another, in one batch
# or in the next ones, and hashing each again would cost a tenth of ingesting it. Cleared
# whole when full, and only ids of provider-id length kept, so it stays bounded (a few MB)
# whatever the traffic; ids are immutable, so sharing one is safe, and threads may race only
# to make the same id twice.
_MESSAGE_IDS: dict[tuple[str, str, str], UUID] = {}
_MESSAGE_IDS_KEPT = 16_384
_KEPT_ID_CHARS = 128  # providers' ids are 22-60 characters; a longer one is made each time


def forget_message_ids() -> None:
    """Forget the ids made so far: for a measurement of first sightings (a benchmark's rounds
    replay the same messages, which real traffic does not)."""
    _MESSAGE_IDS.clear()


def uuid5(name: str | bytes) -> UUID:
    """`uuid.uuid5(ENGAGE_NAMESPACE, name)`, in a third of the time (every input computes one).

    The UUID is made as `UUID(int=...)` makes it, without its checks of an int that is 128
    bits by construction: `UUID.__init__` would be a third of the cost."""
    data = name.encode() if isinstance(name, str) else name
    digest = _sha1(_NAMESPACE_BYTES + data, usedforsecurity=False).digest()
    made: UUID = _new(UUID)
    _set(made, "int", (_from_bytes(digest[:16], "big") & _CLEAR) | _SET)
    _set(made, "is_safe", _UNKNOWN)
    return made


def name_of(*parts: str) -> bytes:
    """An unambiguous name for a tuple of strings: a JSON array, so no separator inside a part
    can make two different tuples read the same ("a:b" + "c" against "a" + "b:c")."""
    return orjson.dumps(parts)


def normalise_provider(provider: str) -> str:
    """Provider names compare without regard to case or surrounding space."""
    return provider.strip().lower()


def message_id(channel: Channel, provider: str, provider_message_id: str) -> UUID:
    """The id of the message a provider knows as `provider_message_id` on `channel`."""
    value = channel._value_  # `.value` and an enum's own hash are Python-level properties
    key = (value, provider, provider_message_id)
    made = _MESSAGE_IDS.get(key)
    if made is None:
        made = uuid5(name_of("message", value, normalise_provider(provider), provider_message_id))
        if len(provider_message_id) + len(provider) <= _KEPT_ID_CHARS:
            if len(_MESSAGE_IDS) >= _MESSAGE_IDS_KEPT:
                _MESSAGE_IDS.clear()
            _MESSAGE_IDS[key] = made
    return made
