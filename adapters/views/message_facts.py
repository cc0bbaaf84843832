"""What the message views read of a message event's stored JSON, computed once per distinct
value rather than once per event: a channel's name, the statuses a report proves, a stored
time as the views write it.

A log repeats these values endlessly (a handful of channels and statuses; one recorded time
per ingested batch), so each is looked up in a small table filled on first sight. Each table
is emptied when it grows past `LIMIT` entries, so memory stays bounded whatever the log holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from engage_core import LIFECYCLES
from engage_core.channels import Channel
from engage_core.message.events import DuplicateIgnored, Observed, SendRecorded

OBSERVED = Observed.TOPIC
SEND_RECORDED = SendRecorded.TOPIC
DUPLICATE_IGNORED = DuplicateIgnored.TOPIC
LIMIT = 50_000

_CHANNELS: dict[Any, Channel] = {channel.value: channel for channel in Channel}
_REACHED: dict[tuple[Channel, str, tuple[str, ...]], frozenset[str]] = {}
_INSTANTS: dict[str, str] = {}
_ISO: dict[str, datetime] = {}
K = TypeVar("K")
V = TypeVar("V")


def _kept(table: dict[K, V], key: K, value: V) -> V:
    """`value`, remembered under `key` in `table`, emptied first when full (the tables' one
    bound)."""
    if len(table) >= LIMIT:
        table.clear()
    table[key] = value
    return value


def channel_of(value: Any) -> Channel:
    """A stored channel name as the mapper reads it (any letter case)."""
    found = _CHANNELS.get(value)
    if found is None:
        found = Channel.parse(value)
        if len(_CHANNELS) < LIMIT:
            _CHANNELS[value] = found
    return found


def reached(channel: Channel, status: str, inferred: Sequence[str]) -> frozenset[str]:
    """Every status or engagement kind a report shows its message reached: its own, those it
    inferred and all they prove (the status view's `proved_by` for a report)."""
    key = (channel, status, tuple(inferred))
    found = _REACHED.get(key)
    if found is None:
        rules = LIFECYCLES[channel]
        shown = {status, *inferred}
        if rules.is_engagement(status):
            implied = rules.engagement_implies
            if implied is not None:
                shown.update((implied, *rules.implied[implied]))
        else:
            shown.update(rules.implied[status])
        found = _kept(_REACHED, key, frozenset(shown))
    return found


def moment_of(text: str) -> datetime:
    """A stored time as the mapper structures it."""
    found = _ISO.get(text)
    if found is None:
        found = _kept(_ISO, text, datetime.fromisoformat(text))
    return found


def instant_of(text: str) -> str:
    """A stored time as fixed-width UTC ISO 8601 text (`status.instant` of the time)."""
    found = _INSTANTS.get(text)
    if found is None:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        found = _kept(_INSTANTS, text, moment.astimezone(UTC).isoformat(timespec="microseconds"))
    return found
