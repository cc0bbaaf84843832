"""Policies: consent changes that message facts cause (DOMAIN.md §3), as pure functions.

Saved in the same `observe()` batch, so in the same transaction, as the message event that
causes them:
- email `unsubscribe` → the address's channel UNSUBSCRIBED (the user's own action);
- `group_unsubscribe` / `group_resubscribe` → that group UNSUBSCRIBED / SUBSCRIBED;
- `spamreport` → the channel UNSUBSCRIBED (a setting, on by default);
- an inbound SMS or WhatsApp message that is a STOP (`keywords.py`: the provider's opt-out
  verdict, else the whole typed text) → unsubscribed and locked; a START → on SMS subscribed
  and unlocked, on WhatsApp re-subscribed only if the user's own STOP locked the number (a
  WhatsApp START is no opt-in by itself: opting in to WhatsApp is the business's to collect);
  a HELP → nothing.

The report's facts are read as its adapter typed them (`Observed.facts`), never from its raw
`details`. Where the fact names no contact (no address in the report and no send record; no
sender on an inbound message), or no group, there is nothing to change: the message event still
records it.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import DEFAULT_REGION, ContactKey
from engage_core.consent.keywords import DEFAULT_KEYWORDS, Keyword, Keywords
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.message.events import Observed
from engage_core.observations import InvalidInput, Send

_INBOUND = frozenset({"receiving", "received"})


@attrs.frozen
class PolicySettings:
    """What a deployment may choose about the policies: whether a spam report unsubscribes, the
    region a number without `+` is read in, and the keywords."""

    spam_report_unsubscribes: bool = True
    default_region: str = DEFAULT_REGION
    keywords: Keywords = DEFAULT_KEYWORDS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> PolicySettings:
        """The defaults, with the keywords `ENGAGE_STOP_WORDS`, `ENGAGE_START_WORDS` and
        `ENGAGE_HELP_WORDS` add (`ValueError` naming the variable for a word of two kinds).
        The core reads no environment itself: the CLI (or an embedding service) calls this."""
        return cls(keywords=Keywords.from_environment(environ))


def _given(value: str | None) -> str | None:
    """A fact that says something: not absent, not blank."""
    return value if value is not None and value.strip() else None


def _contact(channel: Channel, raw: str | None, settings: PolicySettings) -> ContactKey | None:
    if raw is None:
        return None
    try:
        return ContactKey.parse(channel, raw, settings.default_region)
    except InvalidInput:
        return None


class _Updates:
    """Makes the `Update`s one report causes: every change it causes shares the report's
    provenance (its id, times, the user the message was for), only status and locks differ."""

    def __init__(self, event: Observed, send: Send | None) -> None:
        self._event = event
        self._user_id = send.user_id if send is not None else None
        self._source_id = event.event_id or event.dedup_keys[0]

    def __call__(self, status: SubscriptionStatus, kind: SourceKind, **lock: bool) -> Update:
        event = self._event
        # a report's time the clock-skew policy clamped is the change's claimed time too
        provenance = Provenance(
            kind,
            self._source_id,
            event.occurred_at or event.recorded_at,
            event.recorded_at,
            self._user_id,
            claimed_at=event.claimed_at,
        )
        return Update(status, provenance, **lock)


def policy_changes(
    event: Observed, send: Send | None, settings: PolicySettings | None = None
) -> list[ConsentChange]:
    """The consent changes one recorded report causes (none for most reports)."""
    settings = settings or PolicySettings()
    if event.channel is Channel.EMAIL:
        return _email_changes(event, send, settings)
    if event.status not in _INBOUND:
        return []
    return _keyword_changes(event, send, settings)


def _email_changes(
    event: Observed, send: Send | None, settings: PolicySettings
) -> list[ConsentChange]:
    """An email report's unsubscribe, spam report or group (re)subscribe, for the address the
    report names, else the one the message was sent to."""
    address = _given(event.facts.contact) or (send.to if send else None)
    email = _contact(Channel.EMAIL, address, settings)
    if email is None:
        return []
    update = _Updates(event, send)
    unsub, sub = SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.SUBSCRIBED
    if event.status == "unsubscribe":
        return [ChannelChange(email, update(unsub, SourceKind.PROVIDER))]
    if event.status == "spamreport" and settings.spam_report_unsubscribes:
        return [ChannelChange(email, update(unsub, SourceKind.POLICY))]
    if event.status not in {"group_unsubscribe", "group_resubscribe"}:
        return []
    group = _given(event.facts.group)
    if group is None:
        return []
    status = unsub if event.status == "group_unsubscribe" else sub
    try:
        return [GroupChange(email, group.strip(), update=update(status, SourceKind.PROVIDER))]
    except InvalidInput:
        return []


def _keyword_changes(
    event: Observed, send: Send | None, settings: PolicySettings
) -> list[ConsentChange]:
    """An inbound SMS or WhatsApp message's STOP or START, for its sender."""
    keyword = settings.keywords.verdict(event.facts)
    if keyword is None or keyword is Keyword.HELP:
        return []
    channel = event.channel
    sender = _contact(channel, _given(event.facts.contact), settings)
    if sender is None:
        return []
    update = _Updates(event, send)
    if keyword is Keyword.STOP:
        stop = update(SubscriptionStatus.UNSUBSCRIBED, SourceKind.KEYWORD, lock=True)
        return [ChannelChange(sender, stop)]
    # on WhatsApp a START re-subscribes only what the user's STOP locked
    start = update(
        SubscriptionStatus.SUBSCRIBED,
        SourceKind.KEYWORD,
        unlock=True,
        unlock_only=channel is Channel.WHATSAPP,
    )
    return [ChannelChange(sender, start)]
