"""The suppression policy a deployment sets in its environment, read by the adapters (the core
reads no environment itself: the CLI or an embedding service calls `policy_from_environment`).

| variable | setting | default |
|---|---|---|
| `ENGAGE_SUPPRESSION_POLICY_VERSION` | `version` (the `policy@vN` recorded) | 1 |
| `ENGAGE_SOFT_BOUNCE_LIMIT` | `soft_bounce_limit` | 3 |
| `ENGAGE_SOFT_BOUNCE_WINDOW_SECONDS` | `soft_bounce_window` | 604800 (7 days) |
| `ENGAGE_CARRIER_ERROR_CODES` | `carrier_codes` (comma-separated) | 30003,30005,30006 |
| `ENGAGE_CARRIER_ERROR_REPEATS` | `carrier_repeats` | 2 |
| `ENGAGE_CARRIER_ERROR_WINDOW_SECONDS` | `carrier_window` | 2592000 (30 days) |
| `ENGAGE_SPAM_REPORT_SUPPRESSES` | `spam_report_suppresses` (true/false, 1/0) | true |

Durations are seconds, as `ENGAGE_CLOCK_SKEW_SECONDS` is. A bad value is a `ValueError` whose
one line names the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs

from engage_core.suppression.policy import SuppressionPolicy

__all__ = ["SETTINGS", "policy_from_environment"]

# each setting's variable (a test holds the table above to these)
SETTINGS: Mapping[str, str] = {
    "version": "ENGAGE_SUPPRESSION_POLICY_VERSION",
    "soft_bounce_limit": "ENGAGE_SOFT_BOUNCE_LIMIT",
    "soft_bounce_window": "ENGAGE_SOFT_BOUNCE_WINDOW_SECONDS",
    "carrier_codes": "ENGAGE_CARRIER_ERROR_CODES",
    "carrier_repeats": "ENGAGE_CARRIER_ERROR_REPEATS",
    "carrier_window": "ENGAGE_CARRIER_ERROR_WINDOW_SECONDS",
    "spam_report_suppresses": "ENGAGE_SPAM_REPORT_SUPPRESSES",
}
_COUNTS = frozenset({"version", "soft_bounce_limit", "carrier_repeats"})
_WINDOWS = frozenset({"soft_bounce_window", "carrier_window"})
_MOST = 10**9  # beyond any sensible count or number of seconds (30 years)
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


def _count(variable: str, raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= _MOST:
        raise ValueError(f"{variable} must be a whole number from 1 to {_MOST} (got {raw!r})")
    return int(raw)


def _seconds(variable: str, raw: str) -> timedelta:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= _MOST:
        raise ValueError(
            f"{variable} must be a number of seconds above 0, at most {_MOST} (got {raw!r})"
        )
    return timedelta(seconds=seconds)


def _codes(variable: str, raw: str) -> frozenset[str]:
    codes = frozenset(code.strip() for code in raw.split(",") if code.strip())
    if not codes or any(not code.isascii() or not code.isalnum() for code in codes):
        raise ValueError(
            f"{variable} must be error codes separated by commas, such as 30003,30005 (got {raw!r})"
        )
    return codes


def _flag(variable: str, raw: str) -> bool:
    if raw.lower() in _TRUE | _FALSE:
        return raw.lower() in _TRUE
    raise ValueError(f"{variable} must be true or false (got {raw!r})")


def policy_from_environment(
    environ: Mapping[str, str], base: SuppressionPolicy | None = None
) -> SuppressionPolicy:
    """`base` (the defaults when None) with each setting its variable gives; unset or blank
    variables leave the setting as it is."""
    given: dict[str, Any] = {}
    for name, variable in SETTINGS.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        if name in _COUNTS:
            given[name] = _count(variable, raw)
        elif name in _WINDOWS:
            given[name] = _seconds(variable, raw)
        elif name == "carrier_codes":
            given[name] = _codes(variable, raw)
        else:
            given[name] = _flag(variable, raw)
    return attrs.evolve(base or SuppressionPolicy(), **given)
