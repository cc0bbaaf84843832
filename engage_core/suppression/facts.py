"""The message facts suppression policies read: bounces, drops, spam reports, carrier errors.

A fact is kept whatever the policy of the day makes of it (a soft bounce, a drop for any
reason, a failure under any error code), so that a later version of a policy can be run over
everything that happened (`engage policies rederive`); which facts suppress is the policy's
business (`policy.derive`), never decided here.

Only a report's typed facts (`Observed.facts`: `bounce_type`, `reason`, `error_code`,
`contact`) and the send record's `to` are read, as the consent policies read them:
- email `bounced`: SendGrid's `type` "blocked" is a soft bounce (the receiving server refused
  it for now: reputation, content, a full mailbox); "bounce", or no type, a hard one (the
  address does not take mail). `deferred` is no bounce: SendGrid is still trying.
- email `dropped`: SendGrid did not send it, for its `reason` ("Bounced Address", "Invalid",
  "Unsubscribed Address", "Spam Reporting Address", "Spam Content", …).
- email `spamreport`: the user marked it as spam.
- SMS and WhatsApp `failed` / `undelivered` with an error code (Twilio's 30003 unreachable
  handset, 30005 unknown destination, 30006 landline or unreachable carrier, …).
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import attrs

from engage_core.channels import Channel
from engage_core.consent.contacts import DEFAULT_REGION, ContactKey
from engage_core.ids import name_of, uuid5
from engage_core.message.events import Observed
from engage_core.observations import InvalidInput, Send

__all__ = ["FactKind", "SuppressionFact", "may_suppress", "suppression_fact", "suppression_id"]


class FactKind(enum.Enum):
    """What a fact is; also the name of the rule a suppression was made by."""

    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    DROPPED = "dropped"
    SPAM_REPORT = "spam_report"
    CARRIER_ERROR = "carrier_error"


@attrs.frozen
class SuppressionFact:
    """One report a policy may act on: its kind, when it happened (the provider's time, as the
    clock-skew policy bounded it), the message and the report's id, and its code (a carrier
    error code, a drop's reason; a bounce's own words stay in the message's history)."""

    kind: FactKind
    occurred_at: datetime
    message_id: UUID
    event_id: str
    code: str | None = None

    @property
    def key(self) -> tuple[UUID, str, FactKind]:
        """Its identity: the same report noted twice is one fact."""
        return (self.message_id, self.event_id, self.kind)

    @property
    def order(self) -> tuple[datetime, str, str, str, str]:
        """A total order on facts (time first), so a derivation never depends on the order
        the facts arrived in: every field takes part, so even two facts under one identity
        that differ (a code) are kept and chosen the same way whatever came first."""
        return (self.occurred_at, str(self.message_id), self.event_id, self.kind.value,
                self.code or "")  # fmt: skip


_EMAIL_STATUSES = frozenset({"bounced", "dropped", "spamreport"})
_FAILURES = frozenset({"failed", "undelivered"})


def may_suppress(event: Observed) -> bool:
    """Whether a report can be a fact (a cheap test: most reports are not)."""
    if event.channel is Channel.EMAIL:
        return event.status in _EMAIL_STATUSES
    return event.status in _FAILURES and event.facts.error_code is not None


def suppression_id(contact: ContactKey) -> UUID:
    """The id of a contact vector's suppression aggregate (no lookup needed)."""
    return uuid5(name_of("suppression", contact.channel.consent_name, contact.key))


def _given(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def _kind(event: Observed) -> tuple[FactKind, str | None] | None:
    facts = event.facts
    if event.channel is not Channel.EMAIL:
        code = _given(facts.error_code)
        return (FactKind.CARRIER_ERROR, code) if code is not None else None
    if event.status == "spamreport":
        return FactKind.SPAM_REPORT, None
    if event.status == "dropped":
        return FactKind.DROPPED, _given(facts.reason)
    if event.status != "bounced":
        return None
    soft = (_given(facts.bounce_type) or "").lower() == "blocked"
    return (FactKind.SOFT_BOUNCE if soft else FactKind.HARD_BOUNCE), None


def suppression_fact(
    event: Observed, send: Send | None, region: str = DEFAULT_REGION
) -> tuple[ContactKey, SuppressionFact] | None:
    """The contact a report is about and the fact it is, or None: not a fact, or no contact
    (the report names none and no send record does, or what it names is no address)."""
    if not may_suppress(event):
        return None
    kind = _kind(event)
    raw = _given(event.facts.contact) or (_given(send.to) if send is not None else None)
    if kind is None or raw is None:
        return None
    try:
        contact = ContactKey.parse(event.channel, raw, region)
    except InvalidInput:
        return None
    fact = SuppressionFact(
        kind[0],
        event.occurred_at or event.recorded_at,
        event.originator_id,
        event.event_id or event.dedup_keys[0],
        kind[1],
    )
    return contact, fact
