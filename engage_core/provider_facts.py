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

    @classmethod
    def trusted(
        cls,
        *,
        contact: str | None = None,
        group: str | None = None,
        link_url: str | None = None,
        reason: str | None = None,
        bounce_type: str | None = None,
        attempt: str | int | None = None,
    ) -> ProviderFacts:
        """The facts an adapter has already checked (texts are `str`, an attempt is text or a
        non-bool `int`), built without running the validators again: one report, one check.
        The facts it does not name are absent."""
        self = _new(cls)
        _set_contact(self, contact)
        _set_text(self, None)
        _set_choice(self, None)
        _set_opt_out(self, None)
        _set_group(self, group)
        _set_link_url(self, link_url)
        _set_error_code(self, None)
        _set_reason(self, reason)
        _set_bounce_type(self, bounce_type)
        _set_attempt(self, attempt)
        return self

    def given(self) -> dict[str, Any]:
        """The facts the report states (none of the absent ones), as plain JSON values, in the
        order the class names them (they are stored in that order). Written out field by field:
        every report's size check reads them, and a loop over the fields costs four times as
        much."""
        stated: dict[str, Any] = {}
        if (value := self.contact) is not None:
            stated["contact"] = value
        if (value := self.text) is not None:
            stated["text"] = value
        if (value := self.choice) is not None:
            stated["choice"] = value
        if (value := self.opt_out) is not None:
            stated["opt_out"] = value
        if (value := self.group) is not None:
            stated["group"] = value
        if (value := self.link_url) is not None:
            stated["link_url"] = value
        if (value := self.error_code) is not None:
            stated["error_code"] = value
        if (value := self.reason) is not None:
            stated["reason"] = value
        if (value := self.bounce_type) is not None:
            stated["bounce_type"] = value
        if (count := self.attempt) is not None:
            stated["attempt"] = count
        return stated


NO_FACTS = ProviderFacts()
FACT_ORDER = tuple(field.name for field in attrs.fields(ProviderFacts))
FACT_NAMES = frozenset(FACT_ORDER)
# The slots' own setters: a frozen class refuses `setattr`, and the trusted constructor sets
# every slot once.
_new = object.__new__
(
    _set_contact, _set_text, _set_choice, _set_opt_out, _set_group, _set_link_url,
    _set_error_code, _set_reason, _set_bounce_type, _set_attempt,
) = (vars(ProviderFacts)[name].__set__ for name in FACT_ORDER)  # fmt: skip


def facts_from(value: object) -> ProviderFacts | None:
    """Facts as given to an `Observation`: the value itself, or a JSON object of known
    facts (`InvalidInput` naming an unknown one)."""
    if value is None or isinstance(value, ProviderFacts):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInput("facts", f"a JSON object when given (got {value!r})")
    refuse_unknown("facts", value, FACT_NAMES, "fact")
    return ProviderFacts(**value)
