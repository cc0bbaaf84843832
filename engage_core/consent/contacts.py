"""Contact keys, normalised so one person's address or number is always the same key.

Subscriptions are kept per contact vector (DOMAIN.md §3): an email address, or a phone number on
SMS, or the same number on WhatsApp (a separate state). Email addresses are checked and
lower-cased; phone numbers are parsed with `phonenumbers` into E.164, a number without a country
code read in a default region (a setting). A number only has to be *possible* (the right length
for its country), not *valid* in the current numbering plan: plans change faster than the
library's metadata, and test numbers (555…) are possible but not valid.

Parsing with `phonenumbers` costs about 100 µs a number, more than the rest of a CSV row. The
shapes files mostly hold (North American numbers in E.164, or in national form read in the US)
are recognised first by `_nanp_fast`, which answers only where `phonenumbers` is known to answer
the same (a property test holds it to that) and defers everything else to it.
"""

from __future__ import annotations

import re
from functools import cached_property
from uuid import UUID

import attrs

from engage_core.channels import Channel
from engage_core.ids import name_of, uuid5
from engage_core.observations import InvalidInput

__all__ = [
    "DEFAULT_REGION",
    "MAX_GROUP_NAME",
    "ContactKey",
    "directory_id",
    "group_subscription_id",
    "normalise_email",
    "normalise_group_name",
    "normalise_phone",
]


DEFAULT_REGION = "US"


# Deliberately simple: one @, no spaces, a dot in the domain, sane lengths (RFC 5321 limits).
# Deliverability is the provider's business; this catches what is plainly not an address.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s.\x00-\x1f\x7f]{2,}$")


def normalise_email(value: object) -> str:
    """A checked, lower-cased email address; `InvalidInput` with code-ready words otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("email", f"an email address is required (got {value!r})")
    address = value.strip().lower()
    if len(address) > 254 or not _EMAIL.match(address) or ".." in address.split("@")[1]:
        raise InvalidInput("email", f"not an email address: {value!r}")
    return address


# `+1` and ten digits, area code 2-9; or, read in the US, the ten digits as people write them:
# `(213) 555-0123`, `213-555-0123`, `213.555.0123`, `213 555 0123`, `2135550123`. ASCII digits
# only: `phonenumbers` also reads other scripts' digits, which are left to it.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{9}")
_NANP_NATIONAL = re.compile(
    r"\(([2-9][0-9]{2})\) ?([0-9]{3})[-. ]?([0-9]{4})"
    r"|([2-9][0-9]{2})([-. ]?)([0-9]{3})\5([0-9]{4})"
)


def _nanp_fast(text: str, region: str) -> str | None:
    """`text` in E.164 when it is one of the shapes above (each a possible number, written
    as `phonenumbers` writes it), else None: `phonenumbers` decides."""
    if _NANP_E164.fullmatch(text):
        return text
    if region != "US":
        return None
    found = _NANP_NATIONAL.fullmatch(text)
    if found is None:
        return None
    area, exchange, line, area2, _, exchange2, line2 = found.groups()
    return "+1" + (area + exchange + line if area else area2 + exchange2 + line2)


def normalise_phone(value: object, region: str = DEFAULT_REGION) -> str:
    """A phone number in E.164 (`+12135618345`); a number without `+` is read in `region`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("phone", f"a phone number is required (got {value!r})")
    text = value.strip()
    if text.lower().startswith("whatsapp:"):  # Twilio's WhatsApp addresses
        text = text[len("whatsapp:") :]
    fast = _nanp_fast(text, region)
    if fast is not None:
        return fast
    import phonenumbers  # only numbers off the fast path need it (28 ms to import)

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput("phone", f"not a phone number: {value!r} ({error})") from error
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput("phone", f"not a possible phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# each channel's consent name, looked up without the enum's property machinery (once per id)
_CONSENT_NAMES = {channel: channel.consent_name for channel in Channel}


@attrs.frozen(cache_hash=True)
class ContactKey:
    """One contact vector: a channel and its normalised key."""

    channel: Channel
    key: str

    @cached_property
    def subscription_id(self) -> UUID:
        """The id of this vector's channel subscription aggregate (no lookup needed)."""
        return uuid5(name_of("channel-subscription", _CONSENT_NAMES[self.channel], self.key))

    @cached_property
    def directory_id(self) -> UUID:
        """The id of this address's group directory (`directory_id`), computed once per key:
        a batch asks for it to load the directory, to list its groups and to re-judge them."""
        return uuid5(name_of("group-directory", self.key))

    @classmethod
    def parse(cls, channel: Channel | str, key: object, region: str = DEFAULT_REGION) -> ContactKey:
        parsed = channel if isinstance(channel, Channel) else Channel.parse_consent(channel)
        if parsed is Channel.EMAIL:
            return cls(parsed, normalise_email(key))
        return cls(parsed, normalise_phone(key, region))


# Segment's rules for group names: at most 75 characters, no surrounding spaces, none of these.
_FORBIDDEN_IN_GROUP_NAMES = set("!@#$%^&*()_+-=[]{};':\"\\|,.<>/?")
MAX_GROUP_NAME = 75


def normalise_group_name(value: object) -> str:
    """A subscription group's name, checked as Segment checks it (case kept)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("group", f"a group name is required (got {value!r})")
    if value != value.strip():
        raise InvalidInput("group", f"a group name cannot start or end with spaces ({value!r})")
    if len(value) > MAX_GROUP_NAME:
        raise InvalidInput("group", f"longer than {MAX_GROUP_NAME} characters ({value!r})")
    bad = sorted(set(value) & _FORBIDDEN_IN_GROUP_NAMES)
    if bad:
        raise InvalidInput("group", f"{value!r} contains {''.join(bad)!r}")
    return value


def group_subscription_id(email: ContactKey, group: str) -> UUID:
    """The id of an address's subscription to a group."""
    if email.channel is not Channel.EMAIL:
        raise InvalidInput(
            "type", f"groups are for email addresses only (got {email.channel.consent_name})"
        )
    return uuid5(name_of("group-subscription", email.key, group))


def directory_id(email: ContactKey) -> UUID:
    """The id of an address's group directory (the groups it has)."""
    return email.directory_id
