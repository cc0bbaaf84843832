"""Engage core: message lifecycles and consent as event-sourced aggregates.

No I/O of its own: persistence is eventsourcing's, configured from outside (see `adapters`).
What an embedding service needs is here: the application (`EngageApplication`), its inputs
(`Send`, `Observation`, consent `ChannelChange`/`GroupChange` of `ContactKey`s with an `Update`
and its `Provenance`), its answers (`Message`, `SubscriptionAnswer`, `SendPermission`,
`HeldEntry`) and the events it records. The names load on first use, so a program that needs
one corner of the core (the CLI drawing a lifecycle, say) does not pay for the application
and eventsourcing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engage_core.lazy import lazy_names

if TYPE_CHECKING:
    from engage_core.application import Command, ConcurrentWriteError, EngageApplication
    from engage_core.channels import USUAL_PROVIDERS, Channel
    from engage_core.clock import ClockSkewPolicy
    from engage_core.consent.batch import decide_consent
    from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
    from engage_core.consent.choices import user_choices, user_confirmation
    from engage_core.consent.confirmation import ConsentSettings
    from engage_core.consent.contacts import ContactKey
    from engage_core.consent.events import (
        ChannelUpdateDuplicated,
        ChannelUpdateRecorded,
        ConsentEvent,
        GroupListed,
        GroupStateRejudged,
        GroupUpdateDuplicated,
        GroupUpdateRecorded,
    )
    from engage_core.consent.evidence import Proof
    from engage_core.consent.policies import PolicySettings
    from engage_core.consent.queries import SubscriptionAnswer
    from engage_core.consent.rules import (
        ConsentOutcome,
        ErrorCode,
        Provenance,
        SendPermission,
        SourceKind,
        SubscriptionState,
        SubscriptionStatus,
        Update,
        Verdict,
    )
    from engage_core.consent.state import ChannelSubscription, GroupSubscription
    from engage_core.counts import Counts
    from engage_core.errors import InvalidInput
    from engage_core.ids import message_id
    from engage_core.lifecycles import LIFECYCLES, Lifecycle, Relation, lifecycle
    from engage_core.links import (
        BadLink,
        LinkClaims,
        LinkPurpose,
        LinkSettings,
        LinkSigner,
        LinksNotConfigured,
    )
    from engage_core.message.events import (
        DuplicateIgnored,
        MessageEvent,
        Observed,
        Outcome,
        SendRecorded,
    )
    from engage_core.message.history import history
    from engage_core.message.result import ObserveResult
    from engage_core.message.state import Engagement, HistoryEntry, Message, MessageState
    from engage_core.observations import Observation, Send, parse_observation
    from engage_core.provider_facts import ProviderFacts
    from engage_core.quarantine import HeldEntry, HeldRequest, Hold, Problem

# where each public name lives
_HOMES: dict[str, str] = {
    "Channel": "engage_core.channels",
    "ChannelChange": "engage_core.consent.changes",
    "ChannelSubscription": "engage_core.consent.state",
    "ChannelUpdateDuplicated": "engage_core.consent.events",
    "ChannelUpdateRecorded": "engage_core.consent.events",
    "ClockSkewPolicy": "engage_core.clock",
    "Command": "engage_core.application",
    "ConcurrentWriteError": "engage_core.application",
    "ConsentChange": "engage_core.consent.changes",
    "ConsentEvent": "engage_core.consent.events",
    "ConsentOutcome": "engage_core.consent.rules",
    "ContactKey": "engage_core.consent.contacts",
    "ConsentSettings": "engage_core.consent.confirmation",
    "Counts": "engage_core.counts",
    "DuplicateIgnored": "engage_core.message.events",
    "EngageApplication": "engage_core.application",
    "Engagement": "engage_core.message.state",
    "ErrorCode": "engage_core.consent.rules",
    "GroupChange": "engage_core.consent.changes",
    "GroupListed": "engage_core.consent.events",
    "GroupStateRejudged": "engage_core.consent.events",
    "GroupSubscription": "engage_core.consent.state",
    "GroupUpdateDuplicated": "engage_core.consent.events",
    "GroupUpdateRecorded": "engage_core.consent.events",
    "HeldEntry": "engage_core.quarantine",
    "HeldRequest": "engage_core.quarantine",
    "HistoryEntry": "engage_core.message.state",
    "Hold": "engage_core.quarantine",
    "InvalidInput": "engage_core.errors",
    "LIFECYCLES": "engage_core.lifecycles",
    "BadLink": "engage_core.links",
    "LinkClaims": "engage_core.links",
    "LinkPurpose": "engage_core.links",
    "LinkSettings": "engage_core.links",
    "LinkSigner": "engage_core.links",
    "LinksNotConfigured": "engage_core.links",
    "Lifecycle": "engage_core.lifecycles",
    "Message": "engage_core.message.state",
    "MessageEvent": "engage_core.message.events",
    "MessageState": "engage_core.message.state",
    "Observation": "engage_core.observations",
    "ObserveResult": "engage_core.message.result",
    "Observed": "engage_core.message.events",
    "Outcome": "engage_core.message.events",
    "PolicySettings": "engage_core.consent.policies",
    "Problem": "engage_core.quarantine",
    "Proof": "engage_core.consent.evidence",
    "Provenance": "engage_core.consent.rules",
    "ProviderFacts": "engage_core.provider_facts",
    "Relation": "engage_core.lifecycles",
    "Send": "engage_core.observations",
    "SendPermission": "engage_core.consent.rules",
    "SendRecorded": "engage_core.message.events",
    "SourceKind": "engage_core.consent.rules",
    "SubscriptionAnswer": "engage_core.consent.queries",
    "SubscriptionState": "engage_core.consent.rules",
    "SubscriptionStatus": "engage_core.consent.rules",
    "USUAL_PROVIDERS": "engage_core.channels",
    "Update": "engage_core.consent.rules",
    "Verdict": "engage_core.consent.rules",
    "decide_consent": "engage_core.consent.batch",
    "history": "engage_core.message.history",
    "lifecycle": "engage_core.lifecycles",
    "message_id": "engage_core.ids",
    "parse_observation": "engage_core.observations",
    "user_choices": "engage_core.consent.choices",
    "user_confirmation": "engage_core.consent.choices",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "LIFECYCLES",
    "USUAL_PROVIDERS",
    "BadLink",
    "Channel",
    "ChannelChange",
    "ChannelSubscription",
    "ChannelUpdateDuplicated",
    "ChannelUpdateRecorded",
    "ClockSkewPolicy",
    "Command",
    "ConcurrentWriteError",
    "ConsentChange",
    "ConsentEvent",
    "ConsentOutcome",
    "ConsentSettings",
    "ContactKey",
    "Counts",
    "DuplicateIgnored",
    "EngageApplication",
    "Engagement",
    "ErrorCode",
    "GroupChange",
    "GroupListed",
    "GroupStateRejudged",
    "GroupSubscription",
    "GroupUpdateDuplicated",
    "GroupUpdateRecorded",
    "HeldEntry",
    "HeldRequest",
    "HistoryEntry",
    "Hold",
    "InvalidInput",
    "Lifecycle",
    "LinkClaims",
    "LinkPurpose",
    "LinkSettings",
    "LinkSigner",
    "LinksNotConfigured",
    "Message",
    "MessageEvent",
    "MessageState",
    "Observation",
    "ObserveResult",
    "Observed",
    "Outcome",
    "PolicySettings",
    "Problem",
    "Proof",
    "Provenance",
    "ProviderFacts",
    "Relation",
    "Send",
    "SendPermission",
    "SendRecorded",
    "SourceKind",
    "SubscriptionAnswer",
    "SubscriptionState",
    "SubscriptionStatus",
    "Update",
    "Verdict",
    "decide_consent",
    "history",
    "lifecycle",
    "message_id",
    "parse_observation",
    "user_choices",
    "user_confirmation",
]
