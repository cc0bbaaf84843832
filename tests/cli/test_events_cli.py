"""`engage events` as a user runs it: the published events of what was observed, and the
legacy spelling as a setting (changing it takes a rebuild of the outbox)."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from tests.cli.test_ingest_cli import run

GROUP_UNSUBSCRIBE = json.dumps({
    "channel": "email", "provider": "sendgrid", "provider_message_id": "E1",
    "status": "group_unsubscribe", "event_id": "g1",
    "details": {"email": "jo@example.com", "group": "7"},
}) + "\n"  # fmt: skip


def events(store: str, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    shown = run("--store", store, "events", env=env)
    assert shown.returncode == 0, shown.stderr
    return [json.loads(line) for line in shown.stdout.splitlines()]


def test_published_events_and_the_legacy_spelling(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    assert run("--store", store, "observe", "-", stdin=GROUP_UNSUBSCRIBE.encode()).returncode == 0
    first, consent = events(store)
    assert first["event"] == "Email Group Unsubscribed"
    assert first["position"] == 1
    assert first["context"] == {
        "library": {"name": "engage-core", "version": version("engage-core")}
    }
    assert consent["event"] == "Group Subscription Updated"  # the user's own group unsubscribe
    legacy = {"ENGAGE_LEGACY_GROUP_UNSUBSCRIBED": "1"}
    rebuilt = run("--store", store, "rebuild", "outbox", env=legacy)
    assert rebuilt.returncode == 0, rebuilt.stderr
    again, _ = events(store, legacy)
    assert again["event"] == "Email Group Unsusbcribed"
    assert again["messageId"] == first["messageId"]  # the same fact, the same id
    limited = run("--store", store, "events", "--since", "1")
    assert [json.loads(line)["position"] for line in limited.stdout.splitlines()] == [2]
    bad = run("--store", store, "events", "--limit", "0")
    assert bad.returncode == 2
