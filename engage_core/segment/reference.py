"""The event reference of docs/events.md, generated from the code that publishes the events.

Every property Engage puts on a track event is described here, once: `message_events` and
`consent_events` decide *what* is sent; this module says what each field *means*. A test runs a
broad workload through the mapping and fails when a property is emitted that is not described
here, or described here and never emitted, and another fails when docs/events.md differs from
what `refresh` generates (`make docs` rewrites it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import attrs
import orjson

from engage_core.channels import Channel
from engage_core.consent.rules import SourceKind, SubscriptionStatus
from engage_core.lifecycles import LIFECYCLES
from engage_core.message.decide import decide_observation, decide_send
from engage_core.message.events import Outcome
from engage_core.message.evolve import evolve
from engage_core.observations import Observation, Send
from engage_core.segment.mapping import message_events
from engage_core.segment.names import (
    ALL_EVENT_NAMES,
    CHANNEL_SUBSCRIPTION_UPDATED,
    EMAIL_SUBSCRIBED,
    GROUP_SUBSCRIPTION_UPDATED,
    GROUP_UNSUBSCRIBED,
    LEGACY_GROUP_UNSUBSCRIBED,
)
from engage_core.segment.track import LIBRARY_NAME, MAX_MESSAGE_ID


@attrs.frozen
class Field:
    """One documented field: its name, on which events it appears, and what it means."""

    name: str
    on: str
    meaning: str


def _codes(values: Iterable[object]) -> str:
    return ", ".join(f"`{v}`" for v in values)


_STATUSES = _codes(s.value for s in SubscriptionStatus)
_CHANNELS = _codes(sorted(c.consent_name for c in Channel))

TOP_LEVEL: tuple[Field, ...] = (
    Field("type", "every event", "`track`"),
    Field("event", "every event", "the event's name (see the tables above)"),
    Field(
        "userId",
        "when a user is known",
        "the user the message or change was for: the send record's `user_id` (`record_send`, "
        "or SendGrid's custom arg), or the consent update's provenance (identify's `userId`)",
    ),
    Field(
        "anonymousId",
        "when no user is known",
        "SHA-256 hex of the normalised contact key, as Segment's SendGrid source hashes the "
        "address: the send record's `to`, else the report's recipient (`email`, `To`, "
        "`recipient_id`) or, for an inbound message, its sender (`From`); with no contact at "
        "all, SHA-256 hex of the message id's 16 bytes, so the event is still kept",
    ),
    Field(
        "messageId",
        "every event",
        "`engage-<aggregate id as hex>-<aggregate version>`, with `-1` appended for the second "
        "event one domain event publishes (`Email Subscribed`); deterministic, so a rebuild or "
        f"a retried delivery collapses downstream; at most {MAX_MESSAGE_ID} characters",
    ),
    Field(
        "timestamp",
        "every event",
        "ISO 8601 with a zone: the provider's time for the report where it gave one, else when "
        "Engage recorded it; a send record's `sent_at` (else when recorded); a consent "
        "change's effective time",
    ),
    Field(
        "context.library",
        "every event",
        f'`{{"name": "{LIBRARY_NAME}", "version": <the installed version>}}`',
    ),
    Field("properties", "every event", "the tables below"),
)

_ALL_MESSAGES = "every message event"
_SEND = "when the send record gave it"
MESSAGE_PROPERTIES: tuple[Field, ...] = (
    Field(
        "message_id",
        _ALL_MESSAGES,
        "Engage's id of the message (uuid5 of channel, provider and provider message id)",
    ),
    Field("channel", _ALL_MESSAGES, "`sms`, `email` or `whatsapp`"),
    Field("provider", _ALL_MESSAGES, "the provider, lower case (`twilio`, `sendgrid`, `meta`)"),
    Field(
        "provider_message_id",
        _ALL_MESSAGES,
        "the provider's id of the message (Twilio `MessageSid`, SendGrid `sg_message_id` "
        "before its routing suffix, Meta `wamid`)",
    ),
    Field(
        "status",
        _ALL_MESSAGES,
        "the message's status *after* this event: a late report carries the status that "
        "stands, not its own (`docs/lifecycles.md`)",
    ),
    Field(
        "reported_status",
        _ALL_MESSAGES,
        "the status or engagement kind this event reports (`processed` for a send record)",
    ),
    Field(
        "outcome",
        "provider reports",
        "what the report did: "
        + _codes(o.value for o in (Outcome.APPLIED, Outcome.LATE, Outcome.CONFLICT)),
    ),
    Field("campaign_id", _SEND, "the campaign the message belongs to"),
    Field("campaign_name", _SEND, "the campaign's name"),
    Field("journey_id", _SEND, "the journey the message was sent from"),
    Field("template_id", _SEND, "the template the message was made from"),
    Field("email_subject", _SEND, "the email's subject"),
    Field("link_url", "Email Link Clicked", "the URL clicked (SendGrid `url`)"),
    Field(
        "error_code",
        "reports that carry one",
        "the provider's error code, as text (Twilio `ErrorCode`, Meta `errors[0].code`)",
    ),
    Field(
        "reason",
        "reports that carry one",
        "the provider's words on why (SendGrid's `reason` on bounces, drops and deferrals)",
    ),
    Field("bounce_type", "Email Bounced", "SendGrid's bounce `type`: `bounce` or `blocked`"),
    Field("attempt", "reports that carry one", "SendGrid's delivery `attempt` (deferrals)"),
    Field(
        "group",
        "reports that carry one",
        "the subscription group a group unsubscribe or resubscribe is about (SendGrid's "
        "`asm_group_id`, as text)",
    ),
    Field(
        "machine_open",
        "Email Opened, Email Machine Opened",
        "whether the open was made by the mail client on its own (SendGrid `sg_machine_open`); "
        "Segment's True Opened metric counts the opens where it is `false`",
    ),
)

_ALL_CONSENT = "every subscription event"
SUBSCRIPTION_PROPERTIES: tuple[Field, ...] = (
    Field("channel", _ALL_CONSENT, f"the contact vector's channel: {_CHANNELS}"),
    Field(
        "key",
        _ALL_CONSENT,
        "the contact key, normalised: an email address lower-cased, a phone number in E.164",
    ),
    Field(
        "status",
        _ALL_CONSENT,
        f"the state after the change: {_STATUSES}, or null (none); `PENDING` awaits the "
        "contact's confirmation (double opt-in)",
    ),
    Field("previous_status", _ALL_CONSENT, "the state before the change, likewise"),
    Field(
        "source",
        _ALL_CONSENT,
        "where the change came from: " + _codes(k.value for k in SourceKind),
    ),
    Field(
        "source_id",
        _ALL_CONSENT,
        "which input: file and row, request id and item, identify `messageId`, provider event "
        "id, inbound message id",
    ),
    Field(
        "locked_by_user",
        _ALL_CONSENT,
        "whether the user's own opt-out (a STOP, or one made in the preference center) locks "
        "the vector or group against operator sources",
    ),
    Field("effective_at", _ALL_CONSENT, "when the change took effect, ISO 8601"),
    Field(
        "outcome",
        _ALL_CONSENT,
        "`applied`, or `stale` for an update that arrived after a newer one and still changed "
        "what holds (a STOP effective earlier locks the number whenever it arrives), or "
        "`rejudged` for a group whose state changed because a channel update arrived that "
        "replays before the group's own updates (`source` and `source_id` name that channel "
        "update)",
    ),
    Field("group", GROUP_SUBSCRIPTION_UPDATED, "the group's name"),
)

# What publishes the names that are not a lifecycle status or engagement kind.
_CONSENT_PRODUCERS: Mapping[str, str] = MappingProxyType(
    {
        EMAIL_SUBSCRIBED: "an EMAIL channel subscription became `SUBSCRIBED` (published with "
        f"its {CHANNEL_SUBSCRIPTION_UPDATED})",
        CHANNEL_SUBSCRIPTION_UPDATED: "an update changed a channel subscription's status or its "
        "STOP lock (CSV, API, identify, a provider's unsubscribe or spam report, a STOP or START)",
        GROUP_SUBSCRIPTION_UPDATED: "an update changed a group subscription's status (CSV, API, "
        "identify, a provider's group unsubscribe or resubscribe)",
    }
)

# Facts that publish nothing whatever their channel (the unnamed statuses are listed from the
# lifecycle tables).
SILENT: tuple[str, ...] = (
    "A duplicate: a report, or a send record, sharing a dedup key with one seen before "
    "(recorded as `DuplicateIgnored`); a consent update from a source and source id seen before.",
    "A status a report only *proves* (`inferred`: `read` proves `delivered`): derived, not "
    "reported. The message-status view and the funnel count them.",
    "A second `processed` for a message (a send record after the provider's `processed`, or "
    "the other way round): `Processed` goes out once. A send record's fields fill the "
    "`campaign_id`, `user_id`, … of the events that follow it.",
    "A consent update that changes no state: `unchanged` (the state it already had), "
    "`refused` (`UNABLE_TO_SUBSCRIBE`, `GLOBAL_STATE_NOT_SUBSCRIBED`), or `stale` without "
    "effect.",
    "Group listings and quarantine records: bookkeeping, not facts about a contact.",
)

_GROUPS = ("SMS", "Email", "WhatsApp", "Subscription")


def _named(channel: Channel) -> dict[str, str]:
    """Each event name of a channel's lifecycle, with what publishes it."""
    rules = LIFECYCLES[channel]
    produced: dict[str, str] = {}
    for status in rules.statuses:
        name = rules.event_names[status]
        if name is None:
            continue
        report = f"a report of `{status}`"
        if status == "processed":
            report = (
                "once per message: the first of its send record (`record_send`) and a "
                "provider's report of `processed`"
            )
        produced[name] = report
    for kind, name in rules.engagement_names.items():
        produced[name] = f"a report of engagement `{kind}`"
    return produced


def _producers() -> dict[str, tuple[str, str]]:
    """Every event name → (its group, what publishes it), for the names in `ALL_EVENT_NAMES`."""
    found: dict[str, tuple[str, str]] = {}
    for channel, group in ((Channel.SMS, "SMS"), (Channel.EMAIL, "Email"),
                           (Channel.WHATSAPP, "WhatsApp")):  # fmt: skip
        found.update({n: (group, p) for n, p in _named(channel).items()})
    found[EMAIL_SUBSCRIBED] = ("Email", _CONSENT_PRODUCERS[EMAIL_SUBSCRIBED])
    for name in (CHANNEL_SUBSCRIPTION_UPDATED, GROUP_SUBSCRIPTION_UPDATED):
        found[name] = ("Subscription", _CONSENT_PRODUCERS[name])
    return {name: found[name] for name in ALL_EVENT_NAMES}


def names_table() -> str:
    """The 35 names by group, each with what publishes it."""
    producers = _producers()
    lines: list[str] = []
    for group in _GROUPS:
        names = [n for n, (g, _) in producers.items() if g == group]
        lines += [f"**{group}** ({len(names)})", "", "| event | published for |", "|---|---|"]
        lines += [f"| {name} | {producers[name][1]} |" for name in names]
        lines.append("")
    return "\n".join(lines)


def _field_table(fields: tuple[Field, ...], head: str) -> str:
    rows = [f"| {head} | on | meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.on} | {f.meaning} |" for f in fields]
    return "\n".join(rows) + "\n"


def silent_list() -> str:
    """What publishes nothing: the statuses the tables leave unnamed, then the other facts."""
    per_channel = []
    for channel in Channel:
        rules = LIFECYCLES[channel]
        unnamed = [s for s in rules.statuses if rules.event_names[s] is None]
        per_channel.append(f"{channel.value}: {_codes(unnamed) if unnamed else 'none'}")
    lines = [
        "- A report of a status Segment names no event for ("
        + "; ".join(per_channel)
        + "). It is kept on the message, and carried as `status` by the events after it.",
        *(f"- {item}" for item in SILENT),
    ]
    return "\n".join(lines) + "\n"


def legacy_note() -> str:
    return (
        f"`EventSettings(legacy_group_unsubscribed_spelling=True)` publishes "
        f"`{LEGACY_GROUP_UNSUBSCRIBED}` (Segment's table spelled it so until 2024) instead of "
        f"`{GROUP_UNSUBSCRIBED}`, for downstream data that already has the old spelling. No "
        "other name changes. From the command line, set `ENGAGE_LEGACY_GROUP_UNSUBSCRIBED=1`; "
        "events already in the outbox keep their name until `engage rebuild outbox` (their "
        "`messageId`s stay the same).\n"
    )


def example() -> str:
    """One event as published, made by the mapping itself: a Twilio `delivered` report for a
    message whose send record came first (the library version shown as `…`)."""
    at = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    send = Send.create("sms", "twilio", "SM0123456789abcdef", to="+12135618345",
                       user_id="user-42", campaign_id="spring-sale", sent_at=at)  # fmt: skip
    report = Observation.create("sms", "twilio", "SM0123456789abcdef", "delivered",
                                occurred_at=at + timedelta(seconds=3), event_id="RE1",
                                details={"ErrorCode": ""})  # fmt: skip
    first = decide_send(None, send, recorded_at=at)
    second = decide_observation(evolve(None, first), report, recorded_at=at)
    (track,) = message_events(second, send)
    body = track.as_segment()
    body["context"] = {"library": {**body["context"]["library"], "version": "…"}}
    text = orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()
    return f"```json\n{text}\n```\n"


SECTIONS: Mapping[str, Callable[[], str]] = MappingProxyType(
    {
        "names": names_table,
        "fields": lambda: _field_table(TOP_LEVEL, "field"),
        "message-properties": lambda: _field_table(MESSAGE_PROPERTIES, "property"),
        "subscription-properties": lambda: _field_table(SUBSCRIPTION_PROPERTIES, "property"),
        "silent": silent_list,
        "legacy": legacy_note,
        "example": example,
    }
)
_SECTION = re.compile(r"(<!-- events: ([\w-]+) -->\n)(.*?)(<!-- end events -->)", re.S)


def refresh(document: str) -> str:
    """`document` with every marked section regenerated: docs/events.md marks them
    `<!-- events: names -->` … `<!-- end events -->` (an unknown name raises `KeyError`)."""
    return _SECTION.sub(lambda m: m[1] + SECTIONS[m[2]]() + m[4], document)
