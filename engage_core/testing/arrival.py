"""How providers deliver what happened: `disorder` turns reports in the order things happened
into the order they arrive in (shuffled within a window, repeated, retried under new ids,
lost, held back), and `subscription_updates` draws a contact's consent updates from every
source in the order they reach Engage, which is not the order they mean.

Engage's promise is that the state it ends in depends on what was reported, not on how it
arrived; these are the strategies that put that promise to the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar, cast

import attrs
from hypothesis import strategies as st

from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import (
    INPUT_STATUSES,
    OPERATOR_SOURCES,
    Provenance,
    SourceKind,
    SubscriptionStatus,
)
from engage_core.consent.rules import Update as Update
from engage_core.observations import Observation
from engage_core.testing.strategies import EPOCH

__all__ = ["disorder", "subscription_updates"]

# reports and send records; provider requests (`twilio_callbacks`…) and anything else too
Input = TypeVar("Input")


def _retried(item: Input, n: int) -> Input:
    """`item` sent again as SendGrid retries: under a new event id (unique to this copy), with
    the same composite key, so it is still the same report. A report with no composite key
    would be a new report under a new id, so it is repeated as it was."""
    if isinstance(item, Observation) and item.provider_keys:
        stem = item.event_id or item.provider_keys[0]
        return cast(Input, attrs.evolve(item, event_id=f"{stem}-retry-{n}"))
    return item


def _kept(draw: st.DrawFn, items: list[Input], drop: bool) -> list[Input]:
    """`items` with at most half of them lost (rounded down: a lone report always arrives)."""
    if not drop or len(items) < 2:
        return items
    lost = draw(st.sets(st.integers(0, len(items) - 1), max_size=len(items) // 2))
    return [item for index, item in enumerate(items) if index not in lost]


@st.composite
def disorder(
    draw: st.DrawFn,
    observations: Sequence[Input],
    *,
    duplicates: bool = True,
    reorder: int | None = 3,
    drop: bool = False,
    new_ids: bool = True,
    delay: bool = True,
) -> list[Input]:
    """`observations` (reports and send records, in the order things happened) in an order
    they may arrive in:

    - `reorder`: each may be overtaken by up to that many of the ones after it (0: in order,
      none held back whatever `delay` says; None: any order at all);
    - `duplicates`: some arrive again, later (a provider's retry);
    - `new_ids`: a repeat of a report with a composite key may carry a new event id, as
      SendGrid's retries do (`sg_event_id` changes; the composite key does not);
    - `drop`: some never arrive (at most half, rounded down: a lone report arrives);
    - `delay`: some are held back past everything else (the late tail of a webhook queue),
      unless `reorder` is 0.

    Only arrival changes: each report still says what it said, times included."""
    items = _kept(draw, list(observations), drop)
    size = len(items)
    placed: list[tuple[float, int, Input]] = [(float(i), i, item) for i, item in enumerate(items)]
    if duplicates and items:
        copies = draw(st.lists(st.integers(0, size - 1), max_size=size))
        for n, index in enumerate(copies):
            copy = _retried(items[index], n) if new_ids and draw(st.booleans()) else items[index]
            arrives_at = index + draw(st.integers(1, size))  # after the report it copies
            placed.append((float(arrives_at), size + n, copy))
    if reorder is None:
        return draw(st.permutations([item for _, _, item in placed]))
    shifted = []
    for position, tie, item in placed:
        position += draw(st.integers(0, reorder)) + 0.5 * (reorder > 0)
        if delay and reorder > 0 and draw(st.integers(0, 9)) == 0:  # held back: overtaken
            position += 2 * size + reorder
        shifted.append((position, tie, item))
    return [item for _, _, item in sorted(shifted, key=lambda placed: placed[:2])]


_OPERATORS = sorted(OPERATOR_SOURCES, key=lambda kind: kind.value)
# Built once: a strategy built afresh for every draw is validated afresh, which cost most of a
# stream's drawing time.
_OPERATOR_KINDS = st.sampled_from(_OPERATORS)
_STATUSES = st.sampled_from(INPUT_STATUSES)  # PENDING is made by double opt-in, not given
_USERS = st.none() | st.sampled_from(["user-1", "user-2"])
_RECORDING_DELAYS = st.integers(0, 90)  # seconds from taking effect to being recorded


def _flavours(channel: Channel) -> list[str]:
    """What can reach a contact's channel subscription: operators always; the user's own
    opt-out (an unsubscribe link or spam report on email, a STOP on a phone channel) and, on
    phone channels, a START; and the user's own choices in the preference center (an opt-out
    that locks, a subscribe that lifts it)."""
    mine = ["preference_out", "preference_in"]
    if channel is Channel.EMAIL:
        return ["operator", "operator", "unsubscribe", "spamreport", *mine]
    return ["operator", "operator", "stop", "start", *mine]


def _update(
    draw: st.DrawFn, contact: ContactKey, flavour: str, n: int, at: datetime
) -> Update:
    unsubscribed, subscribed = SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.SUBSCRIBED
    recorded = at + timedelta(seconds=draw(_RECORDING_DELAYS))
    user = draw(_USERS)
    if flavour == "operator":
        kind = draw(_OPERATOR_KINDS)
        status = draw(_STATUSES)
        return Update(status, Provenance(kind, f"{kind.value}-{n}", at, recorded, user))
    if flavour == "unsubscribe":
        return Update(unsubscribed, Provenance(SourceKind.PROVIDER, f"unsub-{n}", at, recorded))
    if flavour == "spamreport":
        return Update(unsubscribed, Provenance(SourceKind.POLICY, f"spam-{n}", at, recorded))
    if flavour.startswith("preference_"):  # as `consent.choices.user_choices` makes them
        page = Provenance(SourceKind.PREFERENCE_CENTER, f"page-{n}", at, recorded)
        out = flavour == "preference_out"
        return Update(unsubscribed if out else subscribed, page, lock=out, unlock=not out)
    keyword = Provenance(SourceKind.KEYWORD, f"inbound-{n}", at, recorded)
    if flavour == "stop":
        return Update(unsubscribed, keyword, lock=True)
    whatsapp = contact.channel is Channel.WHATSAPP
    return Update(subscribed, keyword, unlock=True, unlock_only=whatsapp)


@st.composite
def subscription_updates(
    draw: st.DrawFn,
    contact: ContactKey,
    *,
    start: datetime = EPOCH,
    minutes: int = 20,
    min_size: int = 1,
    max_size: int = 10,
) -> list[Update]:
    """Updates of `contact`'s channel subscription, in the order they arrive: operators' CSV,
    API and identify updates to any status, and the user's own opt-outs (an unsubscribe link,
    a spam report; a STOP keyword, which locks) and START keywords (on WhatsApp these only undo
    a STOP). Each takes effect on a whole minute within `minutes` of `start`, so ties and
    updates arriving long after later ones are common. Apply them with
    `ChannelChange(contact, update)`."""
    count = draw(st.integers(min_size, max_size))
    flavours, offsets = st.sampled_from(_flavours(contact.channel)), st.integers(0, minutes)
    made = []
    for n in range(count):
        flavour = draw(flavours)
        at = start + timedelta(minutes=draw(offsets))
        made.append(_update(draw, contact, flavour, n, at))
    return made
