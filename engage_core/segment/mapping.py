"""Domain events → Segment-spec track events (DOMAIN.md §1), pure.

- A report that was applied, late or a conflict is a fact and is published under its status's
  (or engagement's) name, with the message's status after it; a duplicate publishes nothing.
  Statuses a report only *proves* (inferred) are not published: they are derived, not reported
  (the status view and the funnel count them).
- `<Channel> Processed` (where Segment names one) is published once per message, for the
  first fact that says Engage processed it: its send record or a provider's `processed`
  report, whichever the log holds first. So `record_send` then SendGrid's `processed`, or the
  other way round, or a send record recorded after the provider's callbacks, all publish it
  once (`processed_published` says whether it went out already).
- A consent update publishes `Channel Subscription Updated` / `Group Subscription Updated` when
  it changed the state (status or the user's lock), whatever its outcome label: a late STOP that
  locks a number is stale by arrival and still changes what holds. A group whose state a
  late channel update changed (`GroupStateRejudged`) publishes `Group Subscription Updated`
  with that channel update as its source. An EMAIL channel that becomes SUBSCRIBED also
  publishes `Email Subscribed`. Unchanged, duplicate and refused updates publish
  nothing.
- `userId` when the message's send record or the update's provenance names a user, else
  `anonymousId` = SHA-256 hex of the normalised contact key (as Segment's SendGrid source does).
- `messageId` = `engage-<aggregate id>-<version>[-n]`: the same on every rebuild.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import (
    ChannelUpdateRecorded,
    GroupStateRejudged,
    GroupUpdateRecorded,
)
from engage_core.consent.rules import SubscriptionState, SubscriptionStatus
from engage_core.lifecycles import LIFECYCLES
from engage_core.message.events import MessageEvent, Observed, Outcome, SendRecorded
from engage_core.observations import NO_FACTS, InvalidInput, ProviderFacts, Send
from engage_core.segment.names import (
    CHANNEL_SUBSCRIPTION_UPDATED,
    EMAIL_SUBSCRIBED,
    GROUP_SUBSCRIPTION_UPDATED,
    GROUP_UNSUBSCRIBED,
    LEGACY_GROUP_UNSUBSCRIBED,
)
from engage_core.segment.track import LIBRARY_NAME, TrackEvent

LEGACY_SPELLING_VARIABLE = "ENGAGE_LEGACY_GROUP_UNSUBSCRIBED"
_PUBLISHED = frozenset({Outcome.APPLIED, Outcome.LATE, Outcome.CONFLICT})
_SEND_FIELDS = ("campaign_id", "campaign_name", "journey_id", "template_id", "email_subject")


@attrs.frozen
class EventSettings:
    """How events are named for downstream: the legacy `Email Group Unsusbcribed` spelling for
    users whose data already has it."""

    legacy_group_unsubscribed_spelling: bool = False
    library_version: str | None = None  # for `context.library.version`, when known

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], *, library_version: str | None = None
    ) -> EventSettings:
        """`ENGAGE_LEGACY_GROUP_UNSUBSCRIBED=1` (or true, yes, on) for the legacy spelling."""
        flag = environ.get(LEGACY_SPELLING_VARIABLE, "").strip().lower()
        return cls(
            legacy_group_unsubscribed_spelling=flag in {"1", "true", "yes", "on"},
            library_version=library_version,
        )

    def context(self) -> dict[str, Any]:
        library: dict[str, str] = {"name": LIBRARY_NAME}
        if self.library_version is not None:
            library["version"] = self.library_version
        return {"library": library}

    def name(self, name: str) -> str:
        if self.legacy_group_unsubscribed_spelling and name == GROUP_UNSUBSCRIBED:
            return LEGACY_GROUP_UNSUBSCRIBED
        return name


def anonymous_id(key: str) -> str:
    """SHA-256 hex of a normalised contact key (the key alone, as Segment's SendGrid source
    hashes the address)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _message_id(event: Any, n: int = 0) -> str:
    base = f"engage-{event.originator_id.hex}-{event.originator_version}"
    return base if n == 0 else f"{base}-{n}"


def _contact_of(event: MessageEvent, facts: ProviderFacts, send: Send | None
                ) -> ContactKey | None:  # fmt: skip
    """The contact a message went to (or, inbound, came from), normalised: the send record's
    `to`, else the report's contact (an inbound message's is its sender, whoever we sent to)."""
    channel = event.channel
    inbound = isinstance(event, Observed) and event.status in {"received", "receiving"}
    sent_to = send.to if send is not None and not inbound else None
    for raw in (sent_to, facts.contact):
        if raw is not None and raw.strip():
            try:
                return ContactKey.parse(channel, raw.strip())
            except InvalidInput:
                continue
    return None


Who = tuple[str | None, str | None]  # (userId, anonymousId): exactly one set


def _who(event: MessageEvent, _: object, send: Send | None) -> Who:
    """(userId, anonymousId) of a message event. The second argument (what callers pass as the
    report's record) is not read: the contact comes from the report's typed facts."""
    if send is not None and send.user_id:
        return send.user_id, None
    facts = event.facts if isinstance(event, Observed) else NO_FACTS
    contact = _contact_of(event, facts, send)
    if contact is not None:
        return None, anonymous_id(contact.key)
    # no contact known at all: still a stable id, per message, so the event is not lost
    return None, hashlib.sha256(event.originator_id.bytes).hexdigest()


def _track(
    name: str,
    message_id: str,
    at: datetime,
    properties: dict[str, Any],
    who: Who,
    settings: EventSettings,
) -> TrackEvent:
    return TrackEvent(event=name, message_id=message_id, timestamp=at, properties=properties,
                      user_id=who[0], anonymous_id=who[1], context=settings.context())  # fmt: skip


def _facts(event: Observed) -> dict[str, Any]:
    """The report's own facts, named the same whatever the provider (its adapter typed them)."""
    given = event.facts
    facts: dict[str, Any] = {}
    if event.status == "click" and given.link_url is not None:
        facts["link_url"] = given.link_url
    if given.error_code is not None and given.error_code != "":
        facts["error_code"] = given.error_code
    if given.reason is not None:  # SendGrid bounces, drops, deferrals
        facts["reason"] = given.reason
    if event.status == "bounced" and given.bounce_type is not None:
        facts["bounce_type"] = given.bounce_type
    if given.attempt is not None and given.attempt != "":
        facts["attempt"] = given.attempt
    if event.status in {"group_unsubscribe", "group_resubscribe"} and given.group is not None:
        facts["group"] = given.group
    if event.status in {"open", "machine_open"}:
        facts["machine_open"] = event.status == "machine_open"
    return facts


def _message_properties(event: MessageEvent, status: str, send: Send | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "message_id": str(event.originator_id),
        "channel": event.channel.value,
        "provider": event.provider,
        "provider_message_id": event.provider_message_id,
        "status": status,
    }
    if send is not None:
        for field in _SEND_FIELDS:
            value = getattr(send, field)
            if value is not None:
                properties[field] = value
    return properties


def _timestamp(occurred_at: datetime | None, recorded_at: datetime) -> datetime:
    return occurred_at or recorded_at


def message_events(
    event: MessageEvent,
    send: Send | None,
    settings: EventSettings | None = None,
    *,
    processed_published: bool = False,
) -> list[TrackEvent]:
    """The track events one message event publishes; `send` is the message's send record as
    known at this point of the log (with this event's own, for a send record), and
    `processed_published` whether the message's `Processed` event went out already."""
    settings = settings or EventSettings()
    rules = LIFECYCLES[event.channel]
    processed_name = rules.event_names.get("processed")
    if isinstance(event, SendRecorded):
        if processed_published or not processed_name:
            return []
        properties = _message_properties(event, event.status_after, send)
        properties["reported_status"] = "processed"
        sent_at = send.sent_at if send is not None else None
        at = _timestamp(sent_at, event.recorded_at)
        return [
            _track(
                processed_name, _message_id(event), at, properties, _who(event, {}, send), settings
            )
        ]
    if not isinstance(event, Observed) or event.outcome not in _PUBLISHED:
        return []
    if event.status == "processed" and processed_published:
        return []
    if rules.is_engagement(event.status):
        name = rules.engagement_names.get(event.status)
    else:
        name = rules.event_names.get(event.status)
    if not name:
        return []
    properties = _message_properties(event, event.status_after, send)
    properties["reported_status"] = event.status
    properties["outcome"] = event.outcome.value
    properties.update(_facts(event))
    at = _timestamp(event.occurred_at, event.recorded_at)
    who = _who(event, event.details, send)
    return [_track(settings.name(name), _message_id(event), at, properties, who, settings)]


def publishes_processed(published: list[TrackEvent]) -> bool:
    """Whether these events include the message's `Processed` event."""
    return any(t.properties.get("reported_status") == "processed" for t in published)


def _status(state: SubscriptionState) -> str | None:
    return state.status.value if state.status is not None else None


def consent_events(
    event: ChannelUpdateRecorded | GroupUpdateRecorded | GroupStateRejudged,
    settings: EventSettings | None = None,
) -> list[TrackEvent]:
    """The track events one consent update publishes (none when the state did not change:
    the same status and lock since another time is no change downstream, as a PENDING asked
    again or a late update of the status that holds moves only `since`)."""
    settings = settings or EventSettings()  # (no consent name has a legacy spelling)
    before, after = event.before, event.after
    if before.status is after.status and before.locked_by_user == after.locked_by_user:
        return []
    provenance = event.update.provenance
    properties: dict[str, Any] = {
        "channel": event.channel.consent_name,
        "key": event.key,
        "status": _status(event.after),
        "previous_status": _status(event.before),
        "source": provenance.kind.value,
        "source_id": provenance.source_id,
        "locked_by_user": event.after.locked_by_user,
        "effective_at": provenance.effective_at.isoformat(),
        # a group a late channel update changed was "rejudged"; that update is its source
        "outcome": "rejudged" if isinstance(event, GroupStateRejudged) else event.outcome.value,
    }
    who: Who = (provenance.user_id, None) if provenance.user_id else (None, anonymous_id(event.key))
    at = provenance.effective_at
    if isinstance(event, GroupUpdateRecorded | GroupStateRejudged):
        properties["group"] = event.group
        return [
            _track(GROUP_SUBSCRIPTION_UPDATED, _message_id(event), at, properties, who, settings)
        ]
    published = [
        _track(CHANNEL_SUBSCRIPTION_UPDATED, _message_id(event), at, properties, who, settings)
    ]
    became_subscribed = (
        event.after.status is SubscriptionStatus.SUBSCRIBED
        and event.before.status is not SubscriptionStatus.SUBSCRIBED
    )
    if event.channel is Channel.EMAIL and became_subscribed:
        published.append(
            _track(EMAIL_SUBSCRIBED, _message_id(event, 1), at, properties, who, settings)
        )
    return published
