"""A store whose consent events are compact (class version 3) and the same store as version 2
wrote it give the same events, the same answers to every consent query, and the same views,
digests and outbox, row for row."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from adapters.stores import store_env
from adapters.views import Views, catch_up
from engage_core import EngageApplication
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import CONSENT_EVENT_CLASSES
from engage_core.consent.rules import (
    INPUT_STATUSES,
    Provenance,
    SourceKind,
    SubscriptionStatus,
    Update,
)
from engage_core.serialisation import converter
from tests.views.conftest import rows
from tests.views.workload import GROUPS, START, apply, email, phone, workload

_TOPICS = {cls.TOPIC for cls in CONSENT_EVENT_CLASSES}
PEOPLE = 4


def _as_version_2(app: EngageApplication, path: Path) -> int:
    """Rewrite the store at `path` (a copy of `app`'s) with every consent event in the full
    form version 2 stored; how many rows were rewritten."""
    rewritten = 0
    with sqlite3.connect(path) as connection:
        found = connection.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events"
        ).fetchall()
        for originator, version, topic, state in found:
            if topic not in _TOPICS:
                continue
            stored = StoredEvent(UUID(originator), version, topic, state)
            event = app.mapper.to_domain_event(stored)
            full: dict[str, Any] = converter.unstructure(event, unstructure_as=type(event))
            del full["originator_id"], full["originator_version"]
            full["class_version"] = 2
            data = orjson.dumps(full)
            assert len(data) > len(state)  # the compact form was stored
            connection.execute(
                "UPDATE stored_events SET state = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (data, originator, version),
            )
            rewritten += 1
    return rewritten


def _group_traffic(seed: int) -> list[list[ConsentChange]]:
    """Group changes of the workload's addresses, some recorded as they take effect (as a CSV
    row's are), the same batch again (duplicates), and channel changes that replay before
    them (re-judged groups, STOPs that lock)."""
    rng = random.Random(seed)
    addresses = [ContactKey.parse("EMAIL", email(n)) for n in range(PEOPLE)]
    phones = [ContactKey.parse("SMS", phone(n)) for n in range(PEOPLE)]

    def update(kind: SourceKind, n: int, minutes: int, **flags: bool) -> Update:
        at = START + timedelta(minutes=minutes)
        recorded = at if rng.random() < 0.5 else at + timedelta(hours=1)
        status = rng.choice(INPUT_STATUSES)
        if flags.get("lock"):
            status = SubscriptionStatus.UNSUBSCRIBED
        return Update(status, Provenance(kind, f"{kind.value}-g{n}", at, recorded), **flags)

    groups: list[ConsentChange] = [
        GroupChange(a, rng.choice(GROUPS), update=update(SourceKind.CSV, n, rng.randrange(600)))
        for n, a in enumerate(rng.choices(addresses, k=12))
    ]
    channels: list[ConsentChange] = [
        ChannelChange(a, update(SourceKind.API, 100 + n, rng.randrange(300)))
        for n, a in enumerate(addresses)
    ]
    channels += [
        ChannelChange(p, update(SourceKind.KEYWORD, 200 + n, 30, lock=True))
        for n, p in enumerate(phones[:2])
    ]
    return [groups, groups, channels, channels]


def _log(app: EngageApplication) -> list[Any]:
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(0, 10**6)]


def _answers(app: EngageApplication) -> list[Any]:
    """Every consent query of every contact the workload changes, now and as of its times."""
    found: list[Any] = []
    contacts = [ContactKey.parse("EMAIL", email(n)) for n in range(PEOPLE)]
    contacts += [ContactKey.parse(k, phone(n)) for n in range(PEOPLE) for k in ("SMS", "WHATSAPP")]
    times = [None, *(START + timedelta(minutes=m) for m in (0, 90, 300, 599, 900))]
    for contact in contacts:
        found.append(app.channel_subscription(contact))
        found.append(app.can_send(contact))
        address = contact.channel.consent_name == "EMAIL"
        for at in times:
            found.append(app.subscription(contact, groups=GROUPS if address else None, as_of=at))
        if address:
            found.append(app.groups_of(contact))
            for group in GROUPS:
                found.append(app.can_send(contact, group=group))
                found.append(app.group_subscription(contact, group, as_of=times[3]))
    return found


def _views(app: EngageApplication) -> tuple[dict[str, Any], dict[str, Any]]:
    views = Views(":memory:")
    try:
        chosen = list(views.by_name.values())
        catch_up(app, chosen, page=13)
        return (
            {view.name: view.digest() for view in chosen},
            {view.name: rows(view) for view in chosen},
        )
    finally:
        views.close()


@pytest.mark.parametrize("seed", [3, 4, 27])  # seeds whose changes re-judge a group
def test_a_compact_store_and_its_version_2_copy_read_the_same(tmp_path: Path, seed: int) -> None:
    compact_path, old_path = tmp_path / "compact.db", tmp_path / "old.db"
    app = EngageApplication(env=store_env(f"sqlite:///{compact_path}"))
    try:
        for batch in workload(seed, messages=20, changes=60, people=PEOPLE):
            apply(app, batch)
        for changes in _group_traffic(seed):
            app.change_consent(changes)
        with sqlite3.connect(compact_path) as source, sqlite3.connect(old_path) as copy:
            source.backup(copy)  # the committed log, whatever the journal mode
        assert _as_version_2(app, old_path) > 0
        old = EngageApplication(env=store_env(f"sqlite:///{old_path}"))
        try:
            log = _log(app)
            assert _log(old) == log
            assert {type(e) for e in log} >= set(CONSENT_EVENT_CLASSES)
            assert _answers(old) == _answers(app)
            digests, found = _views(app)
            assert _views(old) == (digests, found)
            assert found["outbox"], "the workload publishes"
        finally:
            old.close()
    finally:
        app.close()
