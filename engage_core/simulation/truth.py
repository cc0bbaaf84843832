"""What Engage must conclude from simulated traffic, derived from the domain's rules alone.

Not by running the engine: a message's end status is the highest-precedence status its
distinct reports prove (docs/lifecycles.md: the send record proves the initial status,
engagement proves `delivered`); its engagement is a count per kind of distinct reports; each
contact vector's consent is the replay of its updates in effective-time order (docs/consent.md:
a STOP locks and refuses operators' resubscriptions until a START; on a WhatsApp number a START
only undoes a STOP; on a tie the user's own action last); the Segment events are one per
distinct report (docs/events.md: the initial status once per message) and one per update that
changed a state when it arrived (`Email Subscribed` too when an address became subscribed).
Duplicates (a resend, a retry under a new id) prove nothing new and publish nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import attrs

from engage_core.lifecycles import lifecycle
from engage_core.simulation.walks import GROUP, Report, SimMessage

__all__ = [
    "ConsentUpdate",
    "GroundTruth",
    "ground_truth",
]

SUBSCRIBED, UNSUBSCRIBED = "SUBSCRIBED", "UNSUBSCRIBED"
NOW = 1  # replay class of updates Engage dates when it receives them (CSV rows, Twilio)
PAST = 0  # updates with a time of their own, all in simulated (past) time


@attrs.frozen
class ConsentUpdate:
    """One update of a contact vector (`EMAIL`, `SMS`, `WHATSAPP`, or `GROUP` for the
    address's unsubscribe group), in arrival order: `action` is a status an operator sets, or
    `stop`, `start`, `opt_out` (a user's unsubscribe), `source` identifies it (the same source
    again is a duplicate), `when` is its replay position (class, time, user last)."""

    vector: tuple[str, str]
    action: str
    source: str
    when: tuple[int, int, int]

    @property
    def operator(self) -> bool:
        return self.action not in {"stop", "start", "opt_out"}


@attrs.frozen
class GroundTruth:
    """Every message's end status and engagement (keyed `channel:provider:id`), every contact
    vector's consent (`CHANNEL:key` → status, and whether a STOP locks it), the Segment event
    names as a multiset."""

    messages: dict[str, dict[str, object]]
    consent: dict[str, dict[str, object]]
    events: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        return {"messages": self.messages, "consent": self.consent, "events": self.events}


def message_key(message: SimMessage) -> str:
    return f"{message.channel.value}:{message.provider}:{message.provider_message_id}"


def _message_truth(
    message: SimMessage, reports: Sequence[Report]
) -> tuple[dict[str, object], Counter[str]]:
    rules = lifecycle(message.channel)
    proved: set[str] = set()
    engagement: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for report in reports:
        status = rules.canonical(report.kind)
        if status is not None and rules.is_status(status):
            proved.add(status)
            name = rules.event_names.get(status)
            if name and status != rules.initial:
                events[name] += 1
        else:
            engagement[report.kind] += 1
            events[rules.engagement_names[report.kind]] += 1
    if message.custom_args or rules.initial in proved:
        proved.add(rules.initial)
        name = rules.event_names.get(rules.initial)
        if name:
            events[name] += 1  # once per message: the send record or the report
    if engagement and rules.engagement_implies:
        proved.add(rules.engagement_implies)
    status = max(proved, key=rules.rank.__getitem__)
    truth: dict[str, object] = {"channel": message.channel.value, "provider": message.provider,
             "provider_message_id": message.provider_message_id, "status": status,
             "engagement": dict(sorted(engagement.items()))}  # fmt: skip
    return truth, events


@attrs.frozen
class _State:
    """A subscription as replayed: its status, its STOP lock, and the replay position of the
    update that last changed it (an older update arriving late can move that, and a state
    that moved is published again)."""

    status: str | None = None
    locked: bool = False
    since: tuple[int, int, int] | None = None


def _step(state: _State, update: ConsentUpdate, whatsapp: bool) -> _State:
    if update.action == "stop":
        after = _State(UNSUBSCRIBED, True)
    elif update.action == "opt_out":
        after = _State(UNSUBSCRIBED, state.locked)
    elif update.action == "start":
        if whatsapp and not state.locked:
            return state  # on WhatsApp a START only undoes a STOP
        after = _State(SUBSCRIBED, False)
    elif state.locked and update.action != UNSUBSCRIBED:
        return state  # refused: UNABLE_TO_SUBSCRIBE
    else:
        after = _State(update.action, state.locked)
    if (after.status, after.locked) == (state.status, state.locked):
        return state  # unchanged: it keeps the time of the update that set it
    return attrs.evolve(after, since=update.when)


def _replay(updates: Iterable[ConsentUpdate], whatsapp: bool) -> _State:
    state = _State()
    for update in sorted(updates, key=lambda u: u.when):
        state = _step(state, update, whatsapp)
    return state


def _consent_truth(
    updates: Sequence[ConsentUpdate],
) -> tuple[dict[str, dict[str, object]], Counter[str]]:
    """Each vector's final state, and the events its updates published as they arrived."""
    kept: dict[tuple[str, str], list[ConsentUpdate]] = {}
    events: Counter[str] = Counter()
    for update in updates:
        mine = kept.setdefault(update.vector, [])
        if any(seen.source == update.source for seen in mine):
            continue  # the same source again: a duplicate
        whatsapp = update.vector[0] == "WHATSAPP"
        before = _replay(mine, whatsapp)
        mine.append(update)
        after = _replay(mine, whatsapp)
        if (after.status, after.locked) == (before.status, before.locked):
            continue  # only a change of status or lock is published (not of `since` alone)
        if update.vector[0] == "GROUP":
            events["Group Subscription Updated"] += 1
            continue
        events["Channel Subscription Updated"] += 1
        if update.vector[0] == "EMAIL" and after.status == SUBSCRIBED != before.status:
            events["Email Subscribed"] += 1
    consent: dict[str, dict[str, object]] = {}
    for (channel, key), mine in sorted(kept.items()):
        state = _replay(mine, channel == "WHATSAPP")
        name = f"{channel}:{key}" if channel != "GROUP" else f"EMAIL:{key}:{GROUP}"
        consent[name] = {"status": state.status, "locked": state.locked}
    return consent, events


def ground_truth(
    reports: Sequence[Report], consent_updates: Sequence[ConsentUpdate]
) -> GroundTruth:
    """The truth of a run from its distinct reports (duplicates left out) and its consent
    updates in arrival order."""
    by_message: dict[str, tuple[SimMessage, list[Report]]] = {}
    for report in reports:
        by_message.setdefault(message_key(report.message), (report.message, []))[1].append(report)
    messages: dict[str, dict[str, object]] = {}
    events: Counter[str] = Counter()
    for key, (message, mine) in sorted(by_message.items()):
        messages[key], published = _message_truth(message, mine)
        events += published
    consent, changes = _consent_truth(consent_updates)
    events += changes
    return GroundTruth(messages, consent, dict(sorted(events.items())))


