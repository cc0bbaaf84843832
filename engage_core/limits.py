"""How big one input may be, so that no single input can take memory or disk out of proportion.

Every way in reads at most its limit (plus one byte, to know it is over) before it parses, and
refuses what is over with a reason that names the limit and its setting. The core reads no
environment: the adapters build `Limits` (`Limits.from_environment(os.environ)`) and pass it
in; `DEFAULT_LIMITS` is what applies when nobody says otherwise. `docs/limits.md` lists them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "DEFAULT_LIMITS",
    "GIB",
    "KIB",
    "MIB",
    "MOST_ITEMS",
    "SETTINGS",
    "WHOLE_NUMBER",
    "LimitSettingError",
    "Limits",
]


KIB = 1024
MIB = 1024 * KIB


GIB = 1024 * MIB
WHOLE_NUMBER = re.compile(r"[0-9]+(?:_[0-9]+)*")  # ASCII digits: int() would also take "١٢"
MOST_ITEMS = 1_000_000  # the largest item limit a setting may ask for


def _at_least(minimum: int, most: int = GIB) -> Any:
    """A limit from `minimum` to `most`: a larger one would be no limit (reading allocates up
    to it, so a setting of 10**20 would fail every read rather than protect it)."""

    def check(_: object, attribute: attrs.Attribute[int], value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= most:
            raise LimitSettingError(
                f"{SETTINGS[attribute.name]}: a whole number from {minimum} to {most} "
                f"(got {value!r})"
            )

    return check


@attrs.frozen
class Limits:
    """The size limits, in bytes unless named otherwise. Defaults fit what providers and
    clients actually send with room to spare (SendGrid posts at most about 768 KB per batch;
    Segment's Public API takes far fewer items per call than `api_items`)."""

    # one `engage observe` line, without its line ending
    observation_line_bytes: int = attrs.field(default=1 * MIB, validator=_at_least(1))
    # one observation's `details`, as compact JSON
    details_bytes: int = attrs.field(default=64 * KIB, validator=_at_least(1))
    # one provider webhook body (`engage ingest`, the web service)
    provider_body_bytes: int = attrs.field(default=1 * MIB, validator=_at_least(1))
    # what is kept of a body held without a verified signature (a bad or missing signature,
    # or a body over its limit, which is never verified): its first bytes, with its full size
    # and SHA-256, so that unsigned junk cannot fill the disk
    unauthenticated_body_prefix_bytes: int = attrs.field(default=4 * KIB, validator=_at_least(0))
    # items in one consent request: `subscriptions set` or `identify` (CLI), the Public API's
    # PUT and batch query, a Tracking API body (HTTP)
    api_items: int = attrs.field(default=1_000, validator=_at_least(1, MOST_ITEMS))
    # one such request's body (a Tracking API body also once inflated); `POST /api/messages`
    api_request_bytes: int = attrs.field(default=4 * MIB, validator=_at_least(1))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Limits:
        """The defaults, with each `ENGAGE_MAX_*` setting found in `environ` instead;
        `LimitSettingError` (one line naming the setting) when one is not a whole number in
        range."""
        given: dict[str, int] = {}
        for field, name in SETTINGS.items():
            text = environ.get(name)
            if text is None or not text.strip():
                continue
            digits = text.strip()
            if not WHOLE_NUMBER.fullmatch(digits):  # "1048576" or "1_048_576"; not "²" or "1e6"
                raise LimitSettingError(f"{name}: a whole number of bytes or items (got {text!r})")
            given[field] = int(digits, 10)
        return cls(**given)


class LimitSettingError(ValueError):
    """A limit setting that is not a whole number in range; the message names the setting."""


# each limit's environment setting, also named in every refusal so an operator knows what to
# raise
SETTINGS: dict[str, str] = {
    "observation_line_bytes": "ENGAGE_MAX_OBSERVATION_LINE_BYTES",
    "details_bytes": "ENGAGE_MAX_DETAILS_BYTES",
    "provider_body_bytes": "ENGAGE_MAX_PROVIDER_BODY_BYTES",
    "unauthenticated_body_prefix_bytes": "ENGAGE_MAX_UNAUTHENTICATED_BODY_PREFIX_BYTES",
    "api_items": "ENGAGE_MAX_API_ITEMS",
    "api_request_bytes": "ENGAGE_MAX_API_REQUEST_BYTES",
}

DEFAULT_LIMITS = Limits()
