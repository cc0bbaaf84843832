"""`/api/` over real HTTP answers what `engage` prints for the same store: messages, a
contact's subscription, can-send, the quarantine, the outbox's events; 404 for what is not
there, 400 naming the parameter for what cannot be read, 503 when the store fails."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.cli.main import main
from engage_core import EngageApplication, Observation
from tests.web.conftest import Serve, Service
from tests.web.signing import twilio, twilio_params

__all__ = ["TOKEN", "authorised", "cli", "cli_lines", "notifications", "store_url"]

TOKEN = "t2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEND = {
    "channel": "sms", "provider": "twilio", "provider_message_id": "SM-api-1",
    "to": "+12135618345", "campaign_id": "spring", "sent_at": "2026-01-01T12:00:00Z",
}  # fmt: skip


def store_url(app: EngageApplication) -> str:
    return f"sqlite:///{app.env.get('SQLITE_DBNAME')}"


def cli(app: EngageApplication, *args: str) -> tuple[int, str]:
    """Run an `engage` verb in this process on the service's store: its exit code, stdout."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["--store", store_url(app), *args])
    return code, out.getvalue()


def cli_lines(app: EngageApplication, *args: str) -> list[Any]:
    code, printed = cli(app, *args)
    assert code == 0, printed
    return [orjson.loads(line) for line in printed.splitlines()]


def notifications(app: EngageApplication) -> int:
    last: int | None = app.recorder.max_notification_id()
    return last or 0


@pytest.fixture
def authorised(serve: Serve, tmp_path: Path) -> Iterator[Service]:
    with serve(api_tokens=("t1", TOKEN), imports_dir=str(tmp_path / "imports"),
               deliver=False) as service:  # fmt: skip
        service.client.headers.update(AUTH)
        yield service


def test_a_send_is_recorded_and_answered_as_engage_message_prints_it(authorised: Service) -> None:
    answer = authorised.client.post("/api/messages", json=SEND)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    recorded = answer.json()
    assert recorded.pop("outcome") == "applied"  # the rest is the message, as the CLI prints it
    assert recorded["send"]["campaign_id"] == "spring"
    assert recorded["status"] == "processed"
    [printed] = cli_lines(authorised.app, "message", "--id", recorded["message_id"])
    assert recorded == printed
    again = authorised.client.post("/api/messages", json=SEND).json()
    assert again.pop("outcome") == "duplicate"
    assert [e["kind"] for e in again["history"]] == ["applied", "duplicate"]  # recorded, no more
    assert {**again, "history": again["history"][:1], "version": 1} == printed
    [printed] = cli_lines(authorised.app, "message", "--id", recorded["message_id"])
    assert again == printed
    by_id = authorised.client.get(f"/api/messages/{recorded['message_id']}")
    assert by_id.json() == printed
    found = authorised.client.get(
        "/api/messages", params={"channel": "SMS", "provider_message_id": "SM-api-1"}
    )
    assert found.json() == printed
    [by_provider] = cli_lines(
        authorised.app,
        "message",
        "--channel",
        "sms",
        "--provider-message-id",
        "SM-api-1",
        "--provider",
        "twilio",
    )
    assert by_provider == printed


def test_a_different_send_for_a_recorded_message_says_it_did_not_take(
    authorised: Service,
) -> None:
    """A second, different record for the same message is kept in its history but not
    applied: its answer says `late`, so the caller knows the stored send is the first one."""
    first = authorised.client.post("/api/messages", json=SEND).json()
    changed = {**SEND, "campaign_id": "autumn"}
    answer = authorised.client.post("/api/messages", json=changed).json()
    assert answer["outcome"] == "late"
    assert answer["send"]["campaign_id"] == first["send"]["campaign_id"] == "spring"


def test_reports_after_the_send_show_in_the_same_history(authorised: Service) -> None:
    authorised.client.post("/api/messages", json=SEND)
    authorised.app.observe([Observation.create("sms", "twilio", "SM-api-1", "delivered",
                                               occurred_at="2026-01-01T12:00:05Z")])  # fmt: skip
    answer = authorised.client.get(
        "/api/messages",
        params={"channel": "sms", "provider_message_id": "SM-api-1", "provider": "twilio"},
    ).json()
    assert answer["status"] == "delivered"
    assert answer == cli_lines(authorised.app, "message", "--channel", "sms",
                               "--provider-message-id", "SM-api-1")[0]  # fmt: skip


@pytest.mark.parametrize(("path", "params"), [
    ("/api/messages/6f1e1f0e-0000-4000-8000-000000000000", {}),
    ("/api/messages", {"channel": "email", "provider_message_id": "nobody"}),
])  # fmt: skip
def test_no_such_message_is_404(authorised: Service, path: str, params: dict[str, str]) -> None:
    answer = authorised.client.get(path, params=params)
    assert answer.status_code == 404
    assert answer.json()["error"] == "not found"
    assert answer.json()["reason"].startswith("no message with")


@pytest.mark.parametrize(("method", "path", "params", "body", "field"), [
    ("GET", "/api/messages/not-a-uuid", {}, None, "message_id"),
    ("GET", "/api/messages", {"provider_message_id": "x"}, None, "channel"),
    ("GET", "/api/messages", {"channel": "pigeon", "provider_message_id": "x"}, None, "channel"),
    ("GET", "/api/messages", {"channel": "sms"}, None, "provider_message_id"),
    ("GET", "/api/messages", {"channel": "sms", "provider_message_id": "x", "typo": "1"}, None,
     "typo"),
    ("GET", "/api/messages", {"channel": "sms", "provider_message_id": "x\0"}, None,
     "provider_message_id"),
    ("POST", "/api/messages", {}, {**SEND, "channel": "fax"}, "channel"),
    ("POST", "/api/messages", {}, {**SEND, "colour": "red"}, "send"),
    ("POST", "/api/messages", {}, {**SEND, "sent_at": "yesterday"}, "sent_at"),
    ("POST", "/api/messages", {}, [SEND], "body"),
    ("GET", "/api/subscriptions/pigeon/someone", {}, None, "channel"),
    ("GET", "/api/subscriptions/email/not-an-address", {}, None, "key"),
    ("GET", "/api/subscriptions/sms/+12135618345", {"group": "news"}, None, "group"),
    ("GET", "/api/subscriptions/email/a@example.com", {"group": "bad!name"}, None, "group"),
    ("GET", "/api/subscriptions/email/a@example.com", {"as_of": "soon"}, None, "as_of"),
    ("GET", "/api/subscriptions/email/a@example.com", {"history": "maybe"}, None, "history"),
    ("GET", "/api/can-send", {"channel": "sms"}, None, "key"),
    ("GET", "/api/can-send", {"channel": "sms", "key": "+12135618345", "transactional": "2"},
     None, "transactional"),
    ("GET", "/api/events", {"since": "-1"}, None, "since"),
    ("GET", "/api/events", {"limit": "0"}, None, "limit"),
    ("GET", "/api/events", {"limit": "10001"}, None, "limit"),
    ("GET", "/api/events", {"since": "1", "since ": "2"}, None, "since "),
    ("GET", "/api/quarantine", {"all": "yes please"}, None, "all"),
])  # fmt: skip
def test_bad_parameters_are_400_naming_the_field(
    authorised: Service, method: str, path: str, params: dict[str, str], body: Any, field: str
) -> None:
    before = notifications(authorised.app)
    answer = authorised.client.request(method, path, params=params, json=body)
    assert answer.status_code == 400, answer.text
    document = answer.json()
    assert document["field"] == field
    assert document["error"] == "bad request"
    assert field.strip() in document["reason"]
    assert notifications(authorised.app) == before


def test_a_repeated_parameter_meant_once_is_400(authorised: Service) -> None:
    answer = authorised.client.get("/api/events?limit=1&limit=2")
    assert (answer.status_code, answer.json()["field"]) == (400, "limit")


def test_a_body_not_declared_json_or_over_the_limit_is_refused(authorised: Service) -> None:
    text = authorised.client.post("/api/messages", content=orjson.dumps(SEND),
                                  headers={"content-type": "text/plain"})  # fmt: skip
    assert text.status_code == 415
    huge = authorised.client.post("/api/messages", json={**SEND, "to": "x" * (5 * 2**20)})
    assert huge.status_code == 413
    assert "ENGAGE_MAX_API_REQUEST_BYTES" in huge.json()["reason"]


def _consent(app: EngageApplication) -> None:
    csv = ("email,email_subscription_status,news_subscription_status\n"
           "ann@example.com,SUBSCRIBED,SUBSCRIBED\n")  # fmt: skip
    path = Path(str(app.env.get("SQLITE_DBNAME"))).with_name("consent.csv")
    path.write_text(csv)
    assert cli(app, "subscriptions", "import", str(path))[0] == 0


@pytest.mark.parametrize(("params", "args"), [
    ({}, []),
    ({"group": ["news", "other"], "history": "true"}, ["--group", "news", "--group", "other",
                                                       "--history"]),
    ({"as_of": "2000-01-01T00:00:00Z", "history": "1"}, ["--as-of", "2000-01-01T00:00:00Z",
                                                         "--history"]),
])  # fmt: skip
def test_a_subscription_is_what_engage_subscription_prints(
    authorised: Service, params: dict[str, Any], args: list[str]
) -> None:
    _consent(authorised.app)
    answer = authorised.client.get("/api/subscriptions/EMAIL/Ann@Example.com", params=params)
    assert answer.status_code == 200, answer.text
    [printed] = cli_lines(authorised.app, "subscription", "email", "ann@example.com", *args)
    assert answer.json() == printed


@pytest.mark.parametrize(("params", "args"), [
    ({"channel": "email", "key": "ann@example.com"}, ["email", "ann@example.com"]),
    ({"channel": "email", "key": "ann@example.com", "group": "news"},
     ["email", "ann@example.com", "--group", "news"]),
    ({"channel": "sms", "key": "+12135618345", "transactional": "true"},
     ["sms", "+12135618345", "--transactional"]),
    ({"channel": "sms", "key": "+12135618345"}, ["sms", "+12135618345"]),
])  # fmt: skip
def test_can_send_is_what_engage_can_send_prints(
    authorised: Service, params: dict[str, str], args: list[str]
) -> None:
    _consent(authorised.app)
    answer = authorised.client.get("/api/can-send", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json() == cli_lines(authorised.app, "can-send", *args)[0]


def test_the_quarantine_is_what_engage_quarantine_list_prints(authorised: Service) -> None:
    body, headers = twilio(authorised.url + "/webhooks/twilio", twilio_params("SM9"), "wrong")
    for n in range(20):  # more than one page of the listing, each held once
        authorised.client.post("/webhooks/twilio", content=body + f"&n={n}".encode(),
                               headers=headers)  # fmt: skip
    answer = authorised.client.get("/api/quarantine")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson"
    held = [orjson.loads(line) for line in answer.text.splitlines()]
    assert len(held) == 20
    assert held == cli_lines(authorised.app, "quarantine", "list")
    every = authorised.client.get("/api/quarantine", params={"all": "true"})
    assert every.text.splitlines() == answer.text.splitlines()


def test_events_page_by_since_and_limit_as_engage_events_prints(authorised: Service) -> None:
    for n in range(5):
        authorised.client.post("/api/messages", json={**SEND, "provider_message_id": f"SM{n}"})
    every = cli_lines(authorised.app, "events")
    assert len(every) >= 5
    answer = authorised.client.get("/api/events")
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert [orjson.loads(line) for line in answer.text.splitlines()] == every
    paged: list[Any] = []
    since = 0
    while page := authorised.client.get("/api/events", params={"since": since, "limit": 2}).text:
        lines = [orjson.loads(line) for line in page.splitlines()]
        assert len(lines) <= 2
        assert lines == cli_lines(authorised.app, "events", "--since", str(since), "--limit", "2")
        paged += lines
        since = lines[-1]["position"]
    assert paged == every
    assert authorised.client.get("/api/events", params={"since": 10**12}).text == ""


def test_storage_failing_is_503(authorised: Service) -> None:
    authorised.app.recorder.datastore.close()  # type: ignore[attr-defined]
    answer = authorised.client.get(
        "/api/can-send", params={"channel": "sms", "key": "+12135618345"}
    )
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "storage unavailable"
    assert answer.headers["retry-after"] == "30"
