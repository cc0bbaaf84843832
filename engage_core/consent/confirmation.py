"""Double opt-in: on a channel that needs confirmation, an operator's SUBSCRIBED is recorded as
PENDING, and only the contact's own confirmation (a signed link, `consent.choices`) makes it
SUBSCRIBED. A PENDING nobody confirmed within the confirmation window reads as no state at all.

Which channels need confirmation is the deployment's choice (`ConsentSettings`), applied to
requests before they are decided: what is recorded is the PENDING itself, so replaying the log
never needs the setting. The window bounds the confirmation link's life too, so a confirmation
cannot arrive after its PENDING has lapsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange
from engage_core.consent.rules import (
    OPERATOR_SOURCES,
    SubscriptionState,
    SubscriptionStatus,
    as_utc,
)

__all__ = ["DEFAULT_CONFIRMATION_WINDOW", "ConsentSettings", "confirming", "lapsed"]

DEFAULT_CONFIRMATION_WINDOW = timedelta(days=7)


def _channels(value: Iterable[Channel | str]) -> frozenset[Channel]:
    return frozenset(Channel.parse(c) for c in value)


@attrs.frozen
class ConsentSettings:
    """What a deployment chooses about consent it manages itself: the channels whose operator
    SUBSCRIBED waits for the contact's confirmation, and how long it waits."""

    confirm: frozenset[Channel] = attrs.field(default=frozenset(), converter=_channels)
    confirmation_window: timedelta = DEFAULT_CONFIRMATION_WINDOW

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ConsentSettings:
        """`ENGAGE_DOUBLE_OPT_IN` (channels, comma-separated: `email,sms`) and
        `ENGAGE_CONFIRMATION_HOURS` (default 168); `ValueError` naming the variable."""
        named = environ.get("ENGAGE_DOUBLE_OPT_IN", "")
        try:
            confirm = frozenset(Channel.parse(c.strip()) for c in named.split(",") if c.strip())
        except ValueError as error:
            raise ValueError(f"ENGAGE_DOUBLE_OPT_IN: {error}") from None
        hours = environ.get("ENGAGE_CONFIRMATION_HOURS", "").strip()
        window = DEFAULT_CONFIRMATION_WINDOW
        if hours:
            if not hours.isdigit() or not 1 <= int(hours) <= 24 * 366:
                raise ValueError("ENGAGE_CONFIRMATION_HOURS: whole hours from 1 to 8784")
            window = timedelta(hours=int(hours))
        return cls(confirm, window)


def confirming(changes: Sequence[ConsentChange], settings: ConsentSettings) -> list[ConsentChange]:
    """`changes`, each operator SUBSCRIBED on a channel that needs confirmation made PENDING
    (a group's change is left as it is: it holds once the channel is confirmed)."""
    if not settings.confirm:
        return list(changes)
    return [_confirming(change, settings.confirm) for change in changes]


def _confirming(change: ConsentChange, confirm: frozenset[Channel]) -> ConsentChange:
    if not isinstance(change, ChannelChange) or change.contact.channel not in confirm:
        return change
    update = change.update
    if update.status is not SubscriptionStatus.SUBSCRIBED:
        return change
    if update.provenance.kind not in OPERATOR_SOURCES:
        return change
    return ChannelChange(change.contact, attrs.evolve(update, status=SubscriptionStatus.PENDING))


def lapsed(
    state: SubscriptionState,
    now: datetime,
    settings: ConsentSettings,
    requested_at: datetime | None = None,
) -> SubscriptionState:
    """`state` as it reads at `now`: a PENDING older than the confirmation window is no state
    (never confirmed, it never was consent). The window runs from `requested_at`, when the
    request was recorded (a CSV row dated last month asks for confirmation now), else from the
    PENDING's own time."""
    if state.status is not SubscriptionStatus.PENDING or state.effective_at is None:
        return state
    start = requested_at if requested_at is not None else state.effective_at
    if as_utc(now) - start < settings.confirmation_window:
        return state
    return SubscriptionState(locked_by_user=state.locked_by_user)
