"""Simulation profiles: how much of what a simulated provider sends, as a small TOML file.

A profile names the channel mix, how messages end, how users engage and opt out, and how
messy the delivery is (duplicates, retries under new ids, reordering, late reports,
contradictions), and how much consent arrives by CSV and identify calls. Two ship with Engage
(`default`, realistic; `hostile`, everything going wrong at once); `load_profile` reads any
other from its text, so a user can describe their own traffic.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import attrs

from engage_core.errors import InvalidInput

__all__ = [
    "PROFILES",
    "Profile",
    "builtin_profile",
    "load_profile",
]

PROFILES = ("default", "hostile")

_RATES = {
    "providers": ("whatsapp_via_meta",),
    "outcomes": ("bounce", "fail", "lost_report"),
    "engagement": ("read", "open", "machine_open", "click", "unsubscribe",
                   "group_unsubscribe", "spam"),
    "inbound": ("rate", "stop", "start"),
    "mess": ("duplicate", "new_id_retry", "late_tail", "contradiction"),
    "consent": ("csv", "identify", "subscribed"),
}  # fmt: skip
_COUNTS = {"mess": ("reorder_window",), "batches": ("sendgrid", "meta")}
_CHANNELS = ("sms", "email", "whatsapp")


@attrs.frozen
class Profile:
    """A profile as read: `rates` by section and name (each from 0 to 1), `counts` (whole
    numbers: the reorder window, batch sizes), `channels` (relative weights)."""

    name: str
    description: str
    channels: dict[str, int]
    rates: dict[str, float]
    counts: dict[str, int]

    def rate(self, section: str, name: str) -> float:
        return self.rates[f"{section}.{name}"]

    def count(self, section: str, name: str) -> int:
        return self.counts[f"{section}.{name}"]


def _section(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise InvalidInput(name, "missing section")
    return value


def _number(section: dict[str, Any], where: str, name: str, *, whole: bool) -> float:
    value = section.get(name)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (whole and not isinstance(value, int))
    ):
        kind = "a whole number" if whole else "a number"
        raise InvalidInput(f"{where}.{name}", f"expected {kind} (got {value!r})")
    return value


def _rates(document: dict[str, Any]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for where, names in _RATES.items():
        section = _section(document, where)
        for name in names:
            value = float(_number(section, where, name, whole=False))
            if not 0 <= value <= 1:
                raise InvalidInput(f"{where}.{name}", f"a rate is from 0 to 1 (got {value})")
            rates[f"{where}.{name}"] = value
    return rates


def _counts(document: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for where, names in _COUNTS.items():
        section = _section(document, where)
        for name in names:
            value = int(_number(section, where, name, whole=True))
            if not 0 <= value <= 10_000 or (where == "batches" and value < 1):
                raise InvalidInput(f"{where}.{name}", f"out of range (got {value})")
            counts[f"{where}.{name}"] = value
    return counts


def load_profile(text: str) -> Profile:
    """A profile from its TOML text; `InvalidInput` naming the field that is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput("profile", f"not TOML: {error}") from error
    channels = _section(document, "channels")
    weights = {name: int(_number(channels, "channels", name, whole=True)) for name in _CHANNELS}
    if any(weight < 0 for weight in weights.values()) or not any(weights.values()):
        raise InvalidInput("channels", "weights are whole numbers from 0, not all 0")
    name, description = document.get("name"), document.get("description", "")
    if not isinstance(name, str) or not name or not isinstance(description, str):
        raise InvalidInput("name", "a profile needs a name (and a description is text)")
    return Profile(name, description, weights, _rates(document), _counts(document))


def builtin_profile(name: str) -> Profile:
    """One of the profiles shipped with Engage (`PROFILES`), read from the package's data."""
    if name not in PROFILES:
        raise InvalidInput("profile", f"unknown profile {name!r} (shipped: {', '.join(PROFILES)})")
    data = resources.files("engage_core.simulation").joinpath("profiles_data", f"{name}.toml")
    return load_profile(data.read_text(encoding="utf-8"))
