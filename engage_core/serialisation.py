"""One cattrs + orjson converter for every persisted and published value, and the eventsourcing
Mapper and Transcoder that store our attrs events with it.

eventsourcing's default Mapper reads `vars(event)` and runs json through registered
transcodings; ours unstructures attrs classes with cattrs (3 µs per event, measured) and looks
topics up in a registry of explicit, stable names instead of importing module paths.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.orjson import make_converter
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from engage_core.channels import Channel
from engage_core.consent.events import CONSENT_EVENT_CLASSES, GroupListed
from engage_core.consent.stored import COMPACT_MAKERS, filled
from engage_core.event_store import stored_event
from engage_core.message.events import MESSAGE_EVENT_CLASSES
from engage_core.observations import NO_FACTS, ProviderFacts, Send
from engage_core.quarantine import QUARANTINE_EVENT_CLASSES
from engage_core.stored_dicts import build_dict_makers
from engage_core.suppression.events import SUPPRESSION_EVENT_CLASSES

__all__ = [
    "EVENT_CLASSES",
    "CattrsMapper",
    "OrjsonTranscoder",
    "UnknownTopicError",
    "UnreadableEventError",
    "converter",
    "register_event_class",
]


converter = make_converter(detailed_validation=False)
converter.register_structure_hook(
    UUID, lambda value, _: value if isinstance(value, UUID) else UUID(value)
)
converter.register_structure_hook(
    datetime,
    lambda value, _: value if isinstance(value, datetime) else datetime.fromisoformat(value),
)

# A channel reads in any letter case: message events store its value (`sms`), consent events
# its consent name (`SMS`), as they always have, so every stored event keeps its JSON.
converter.register_structure_hook(
    Channel, lambda value, _: value if isinstance(value, Channel) else Channel.parse(value)
)
for _consent_class in (*CONSENT_EVENT_CLASSES, GroupListed):
    converter.register_unstructure_hook(
        _consent_class,
        make_dict_unstructure_fn(
            _consent_class,
            converter,
            channel=override(unstruct_hook=lambda channel: channel.consent_name),
        ),
    )
# Consent events are stored compact from class version 3: what the writer left out is filled
# back before the class is structured, whoever reads the stored state.
for _consent_class in CONSENT_EVENT_CLASSES:
    converter.register_structure_hook(
        _consent_class, filled(_consent_class, make_dict_structure_fn(_consent_class, converter))
    )

_STORED: tuple[type[Any], ...] = (
    *MESSAGE_EVENT_CLASSES,
    *CONSENT_EVENT_CLASSES,
    GroupListed,
    *QUARANTINE_EVENT_CLASSES,
    *SUPPRESSION_EVENT_CLASSES,
)
EVENT_CLASSES: dict[str, type[Any]] = {cls.TOPIC: cls for cls in _STORED}


def register_event_class(cls: type[Any]) -> None:
    """Make an event class storable under its `TOPIC`; a topic is never reused for another class."""
    existing = EVENT_CLASSES.get(cls.TOPIC)
    if existing is not None and existing is not cls:
        raise ValueError(f"topic {cls.TOPIC!r} already names {existing.__qualname__}")
    EVENT_CLASSES[cls.TOPIC] = cls


# The message events every provider report becomes, and the group listings of imported rows,
# are built directly (`stored_dicts`): the same JSON, a third of the cost. Consent events are
# built in their compact form (`consent.stored`), read back by the structure hooks above. The
# quarantine's go through the converter (held requests are rare, and hold bytes).
_DICT_MAKERS = {
    **build_dict_makers(
        converter, MESSAGE_EVENT_CLASSES, (Send, ProviderFacts), shared=(NO_FACTS,)
    ),
    **build_dict_makers(
        converter,
        (GroupListed,),
        (),
        spelled={"channel": "consent_name"},  # as the converter's hook above spells it
    ),
    **COMPACT_MAKERS,
}


def _unstructured(event: Any, cls: type[Any]) -> dict[str, Any]:
    """The JSON object stored for `event`: the converter's, without the columns eventsourcing
    stores beside it, with `class_version` when above 1."""
    state: dict[str, Any] = converter.unstructure(event, unstructure_as=cls)
    del state["originator_id"], state["originator_version"]
    class_version = getattr(cls, "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return state


class UnreadableEventError(ValueError):
    """A stored event this version of Engage cannot read back: the store holds something else
    (another application's events, a newer version's, or damaged rows)."""


class UnknownTopicError(UnreadableEventError, LookupError):
    """A stored event names a topic this version of Engage does not know."""


class OrjsonTranscoder(Transcoder):
    """Bytes in and out with orjson; the Mapper hands it plain JSON values only."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class CattrsMapper(Mapper[UUID]):
    """Store attrs events as compact JSON under explicit topics, with `class_version` upcasting."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        make = _DICT_MAKERS.get(cls)
        data = None
        if make is not None:
            try:
                data = orjson.dumps(make(domain_event))
            except (TypeError, AttributeError):  # not plain JSON: the converter decides
                data = None
        if data is None:
            data = orjson.dumps(_unstructured(domain_event, cls))
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return stored_event(
            domain_event.originator_id, domain_event.originator_version, cls.TOPIC, data
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = EVENT_CLASSES.get(stored_event.topic)
        if cls is None:
            raise UnknownTopicError(
                f"no event class is registered for topic {stored_event.topic!r}"
            )
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        try:
            state = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise UnreadableEventError(
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} "
                f"({stored_event.topic}) is not JSON: {error}"
            ) from error
        if not isinstance(state, dict):
            raise UnreadableEventError(
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} "
                f"({stored_event.topic}) is not a JSON object"
            )
        version = state.pop("class_version", 1)
        while version < getattr(cls, "class_version", 1):
            getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        try:
            return converter.structure(state, cls)
        except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as error:
            raise UnreadableEventError(
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} "
                f"({stored_event.topic}) does not match its class: {error}"
            ) from error
