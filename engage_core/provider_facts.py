"""Typed provider facts: what a report says besides its status, under the core's own names,
filled by the adapter that knows the provider's wire format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from engage_core.errors import InvalidInput, refuse_unknown


def _fact_text(_: object, attribute: Any, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"facts.{attribute.name}", f"a string when given (got {value!r})")


def _fact_count(_: object, __: object, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
        raise InvalidInput("facts.attempt", f"a string or a number when given (got {value!r})")


@attrs.frozen
class ProviderFacts:
    """What a report says besides its status, under the core's own names. The adapter that
    knows a provider's wire format fills them, so the core reads no provider's field names:
    `details` keeps the report as sent, for its history. A report says what it says, so every
    fact is optional. One value rather than ten fields of `Observation`: it is stored, bounded
    and compared whole, and a fact added later changes one class."""

    # a status report's recipient, an inbound message's sender, as `ContactKey.parse` reads it
    contact: str | None = attrs.field(default=None, validator=_fact_text)
    text: str | None = attrs.field(default=None, validator=_fact_text)  # typed by the user
    # a tapped button's or list row's title ("" if none): an answer, never typed, no keyword
    choice: str | None = attrs.field(default=None, validator=_fact_text)
    # the provider's own opt-out reading of an inbound message (Twilio's STOP, START, HELP)
    opt_out: str | None = attrs.field(default=None, validator=_fact_text)
    group: str | None = attrs.field(default=None, validator=_fact_text)  # a group event's group
    link_url: str | None = attrs.field(default=None, validator=_fact_text)  # a click's link
    error_code: str | None = attrs.field(default=None, validator=_fact_text)
    reason: str | None = attrs.field(default=None, validator=_fact_text)  # bounce, drop, deferral
    bounce_type: str | None = attrs.field(default=None, validator=_fact_text)  # bounce, blocked
    attempt: str | int | float | None = attrs.field(default=None, validator=_fact_count)

    def given(self) -> dict[str, Any]:
        """The facts the report states (none of the absent ones), as plain JSON values."""
        return {name: value for name, value in attrs.asdict(self).items() if value is not None}


NO_FACTS = ProviderFacts()
FACT_NAMES = frozenset(field.name for field in attrs.fields(ProviderFacts))


def facts_from(value: object) -> ProviderFacts | None:
    """Facts as given to an `Observation`: the value itself, or a JSON object of known
    facts (`InvalidInput` naming an unknown one)."""
    if value is None or isinstance(value, ProviderFacts):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInput("facts", f"a JSON object when given (got {value!r})")
    refuse_unknown("facts", value, FACT_NAMES, "fact")
    return ProviderFacts(**value)
