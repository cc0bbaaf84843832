"""The simulation's ground truth against what the engine concluded, and the run's report.

Messages are looked up by their provider ids, contact vectors by their keys, and the Segment
events counted by name in the outbox from where it stood before the run: any difference is a
mismatch, the first few of each kind listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from adapters.views.outbox import OutboxView
from engage_core import Channel, EngageApplication
from engage_core.consent.contacts import ContactKey
from engage_core.simulation.truth import GroundTruth

__all__ = ["FIRST", "check_consent", "check_events", "check_messages", "outbox_events"]

FIRST = 10  # mismatches listed per kind


def check_messages(app: EngageApplication, truth: GroundTruth) -> list[dict[str, Any]]:
    mismatches: list[dict[str, Any]] = []
    for key, expected in truth.messages.items():
        channel = Channel(str(expected["channel"]))
        found = app.find_message(channel, str(expected["provider_message_id"]),
                                 str(expected["provider"]))  # fmt: skip
        got: dict[str, Any] | None = None
        if found is not None:
            engagement = {kind: e.count for kind, e in sorted(found.state.engagement.items())}
            got = {"status": found.state.status, "engagement": engagement}
        wanted = {"status": expected["status"], "engagement": expected["engagement"]}
        if got != wanted:
            mismatches.append({"message": key, "expected": wanted, "found": got})
    return mismatches


def _consent_found(app: EngageApplication, name: str) -> dict[str, Any]:
    channel, key, *group = name.split(":", 2)
    contact = ContactKey.parse(channel, key)
    if group:
        state = app.group_subscription(contact, group[0])
        return {"status": None if state.status is None else state.status.value, "locked": False}
    subscription = app.channel_subscription(contact)
    if subscription is None:
        return {"status": None, "locked": False}
    current = subscription.current
    status = None if current.status is None else current.status.value
    return {"status": status, "locked": current.locked_by_user}


def check_consent(app: EngageApplication, truth: GroundTruth) -> list[dict[str, Any]]:
    mismatches: list[dict[str, Any]] = []
    for name, expected in truth.consent.items():
        found = _consent_found(app, name)
        if found != expected:
            mismatches.append({"contact": name, "expected": expected, "found": found})
    return mismatches


def outbox_events(outbox: OutboxView, after: int) -> Counter[str]:
    return Counter(entry.event for entry in outbox.entries(after))


def check_events(truth: GroundTruth, published: Counter[str]) -> list[dict[str, Any]]:
    names: Iterable[str] = sorted(set(truth.events) | set(published))
    return [
        {"event": name, "expected": truth.events.get(name, 0), "found": published[name]}
        for name in names
        if truth.events.get(name, 0) != published[name]
    ]
