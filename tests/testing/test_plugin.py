"""The pytest plugin's fixtures, as a test of a user's gets them (the `pytest11` entry point),
Hypothesis' `st.from_type` registration, and a core that imports no Hypothesis."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adapters.pytest_plugin as plugin
from engage_core import Channel, ContactKey, EngageApplication, Observation, Send
from engage_core.testing import twilio_callbacks


def test_engage_app_is_in_memory(engage_app: EngageApplication) -> None:
    assert type(engage_app.recorder).__module__.startswith("eventsourcing.popo")
    engage_app.record_send(Send.create("sms", "twilio", "SM1"))
    assert engage_app.find_message(Channel.SMS, "SM1") is not None


def test_engage_sqlite_app_is_on_a_file(engage_sqlite_app: EngageApplication) -> None:
    engage_sqlite_app.record_send(Send.create("sms", "twilio", "SM1"))
    assert engage_sqlite_app.find_message(Channel.SMS, "SM1") is not None

# one server for the test's examples: each draws a message of its own
@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_engage_server_applies_signed_callbacks(engage_server: str, data: st.DataObject) -> None:
    url = f"{engage_server}/webhooks/twilio"
    for request in data.draw(twilio_callbacks(url=url, end="delivered")):
        answer = httpx.post(url, content=request.body, headers=dict(request.headers), timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["received"] == 1


def test_engage_server_skips_without_the_server_extra(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setattr(plugin, "_SERVER_MODULES", ("engage_no_such_module",))
    with pytest.raises(pytest.skip.Exception, match=r"server extra.*engage_no_such_module"):
        request.getfixturevalue("engage_server")


@given(
    channel=st.from_type(Channel), contact=st.from_type(ContactKey),
    send=st.from_type(Send), observation=st.from_type(Observation),
)  # fmt: skip
def test_engage_types_draw_from_the_registered_strategies(
    channel: Channel, contact: ContactKey, send: Send, observation: Observation
) -> None:
    assert contact == ContactKey.parse(contact.channel, contact.key)  # already normalised
    assert send.provider_message_id
    assert send.to
    assert observation.occurred_at is not None  # a step of a drawn walk, not st.builds'


def test_the_core_imports_no_hypothesis() -> None:
    probe = (
        "import sys, engage_core, adapters.stores\n"
        "[getattr(engage_core, name) for name in engage_core.__all__]\n"
        "import engage_core.testing, engage_core.testing.registration\n"
        "print('hypothesis' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True, env={"HYPOTHESIS_NO_PLUGINS": "1"})  # fmt: skip
    assert done.stdout.strip() == "False"


def test_a_server_that_does_not_start_leaks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket is closed and the thread stopped when the server never says it started."""
    import uvicorn

    seen: list[socket.socket] = []

    def fail(self: uvicorn.Server, sockets: list[socket.socket]) -> None:
        seen.extend(sockets)  # and returns without starting, as a server that cannot bind

    monkeypatch.setattr(uvicorn.Server, "run", fail)
    with pytest.raises(RuntimeError, match="did not start"), plugin.serving(object()):
        pass
    assert [sock.fileno() for sock in seen] == [-1]  # closed


def test_engage_server_takes_its_api_token_and_write_key(
    engage_server: str, engage_api_token: str, engage_write_key: str, tmp_path: Path
) -> None:
    """`/api/`, the Public API's kin, and the Tracking API answer a test that authenticates
    with the fixtures' secrets; a CSV import keeps its files in the test's directory."""
    bearer = {"Authorization": f"Bearer {engage_api_token}"}
    csv = "email,email_subscription_status\nann@example.com,SUBSCRIBED\n"
    answer = httpx.post(f"{engage_server}/api/subscriptions/csv", content=csv,
                        headers={**bearer, "Content-Type": "text/csv"}, timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert (tmp_path / "engage-imports").is_dir()
    answer = httpx.get(f"{engage_server}/api/can-send", headers=bearer, timeout=30,
                       params={"channel": "email", "key": "ann@example.com"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["allowed"] is True
    identify = {"type": "identify", "userId": "u1", "context": {"messaging_subscriptions": [
        {"key": "+14155550100", "type": "SMS", "status": "SUBSCRIBED"}]}}  # fmt: skip
    answer = httpx.post(f"{engage_server}/v1/batch", json={"batch": [identify]},
                        auth=(engage_write_key, ""), timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["subscriptions"]["applied"] == 1
