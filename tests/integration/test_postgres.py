"""The same application on a real PostgreSQL server: the same states as on SQLite, conflicts
retried, and the CLI's store URL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from adapters.stores import open_application, store_env
from engage_core import Channel, EngageApplication, Observation
from engage_core.simulation import simulate
from tests.conftest import FIXED_TIME, sqlite_env
from tests.views.workload import apply, workload


def test_same_states_as_sqlite(postgres_url: str, tmp_path: Path) -> None:
    inputs = list(simulate(seed=11, messages=120).inputs)
    on_postgres = EngageApplication(env=store_env(postgres_url), clock=lambda: FIXED_TIME)
    on_sqlite = EngageApplication(env=sqlite_env(tmp_path / "e.db"), clock=lambda: FIXED_TIME)
    for start in range(0, len(inputs), 100):
        batch = inputs[start : start + 100]
        assert on_postgres.observe(batch) == on_sqlite.observe(batch)
    on_postgres.close()
    reopened = open_application(postgres_url)
    for message_id in dict.fromkeys(item.message_id for item in inputs):
        found = reopened.message(message_id)
        assert found is not None
        assert found == on_sqlite.message(message_id)
    reopened.close()
    on_sqlite.close()


def test_a_write_between_decide_and_save_is_retried(postgres_url: str) -> None:
    other = open_application(postgres_url)
    attempts: list[int] = []

    class Interleaved(EngageApplication):
        name = "Engage"  # the same application, so the same tables (a subclass gets its own)

        def _decide(self, command, now):  # type: ignore[no-untyped-def]
            decided = super()._decide(command, now)
            attempts.append(1)
            if len(attempts) == 1:
                other.observe([Observation.create("sms", "twilio", "S", "sent", event_id="o")])
            return decided

    app = Interleaved(env=store_env(postgres_url))
    result = app.observe([Observation.create("sms", "twilio", "S", "read", event_id="r")])
    assert len(attempts) == 2
    assert result.applied == 1
    found = app.find_message(Channel.SMS, "S")
    assert found is not None
    assert [(e.kind, e.status) for e in found.history][-1] == ("applied", "read")
    app.close()
    other.close()


def test_cli_on_postgres(postgres_url: str) -> None:
    engage = str(Path(sys.executable).with_name("engage"))
    line = json.dumps({"channel": "email", "provider": "sendgrid", "provider_message_id": "m",
                       "status": "click", "event_id": "c1"})  # fmt: skip
    observed = subprocess.run(
        [engage, "--store", postgres_url, "observe", "-"], input=line, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert observed.returncode == 0, observed.stderr
    assert json.loads(observed.stdout)["applied"] == 1
    shown = subprocess.run(
        [engage, "--store", postgres_url, "message", "--channel", "email",
         "--provider-message-id", "m"], capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert json.loads(shown.stdout)["status"] == "delivered"


def test_a_rebuild_on_postgres_counts_the_log_and_checks_itself(
    postgres_url: str, tmp_path: Path
) -> None:
    """PostgreSQL's notification ids may have gaps (a rolled-back insert uses up ids), so a
    rebuild's check counts the log's events rather than trusting the last position."""
    from adapters.views import Views, rebuild
    from adapters.views.runner import count_notifications

    app = EngageApplication(env=store_env(postgres_url), clock=lambda: FIXED_TIME)
    for batch in workload(5, messages=8, changes=8):
        apply(app, batch)
    last = app.recorder.max_notification_id() or 0
    notifications = app.recorder.select_notifications(0, 100_000, inclusive_of_start=False)
    assert count_notifications(app, last) == len(notifications)
    assert count_notifications(app, notifications[2].id) == 3
    views = Views(str(tmp_path / "engage.views.db"))
    rebuild(app, list(views.by_name.values()))  # its check passes, or it raises
    assert all(view.build().applied == len(notifications) for view in views.by_name.values())
    views.close()
    app.close()
