"""Every `/api/` route refuses a request without an accepted Bearer token (401, JSON, a
challenge), before it reads or changes anything: the store's notifications and the imports
folder are the same after as before. Either of two configured tokens works (rotation), and a
service with none configured refuses all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Serve, Service
from tests.web.test_api_queries import SEND, notifications

CSV = "email,email_subscription_status\nann@example.com,SUBSCRIBED\n"
IMPORT_ID = "6f1e1f0e-0000-4000-8000-000000000000"
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/messages", {"json": SEND}),
    ("GET", f"/api/messages/{IMPORT_ID}", {}),
    ("GET", "/api/messages", {"params": {"channel": "sms", "provider_message_id": "SM1"}}),
    ("GET", "/api/subscriptions/email/ann@example.com", {"params": {"history": "true"}}),
    ("GET", "/api/can-send", {"params": {"channel": "sms", "key": "+12135618345"}}),
    ("POST", "/api/subscriptions/csv", {"content": CSV, "headers": {"content-type": "text/csv"}}),
    ("POST", "/api/subscriptions/csv", {"files": {"file": ("a.csv", CSV, "text/csv")}}),
    ("GET", f"/api/imports/{IMPORT_ID}/errors.csv", {}),
    ("GET", "/api/events", {"params": {"since": "0"}}),
    ("GET", "/api/quarantine", {"params": {"all": "true"}}),
]
WRONG = [None, "Bearer nope", "Bearer", "Basic dDE6", "t1", "Bearer t1x", "bearer T1"]


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize(("method", "path", "extra"), ROUTES)
def test_every_route_refuses_without_an_accepted_token_and_changes_nothing(
    serve: Serve, tmp_path: Path, method: str, path: str, extra: dict[str, Any]
) -> None:
    imports = tmp_path / "imports"
    with serve(api_tokens=("t1", "t2"), imports_dir=str(imports), deliver=False) as service:
        service.client.post("/api/messages", json=SEND, headers={"Authorization": "Bearer t1"})
        before, files = notifications(service.app), _files(imports)
        for given in WRONG:
            headers = {**extra.get("headers", {})}
            if given is not None:
                headers["Authorization"] = given
            answer = service.client.request(method, path, **{**extra, "headers": headers})
            assert answer.status_code == 401, (given, answer.text)
            assert answer.headers["content-type"] == "application/json"
            assert answer.headers["www-authenticate"] == 'Bearer realm="engage"'
            assert set(answer.json()) >= {"error", "reason"}
            assert "t1" not in answer.text
            assert "t2" not in answer.text
        assert notifications(service.app) == before
        assert _files(imports) == files


@pytest.mark.parametrize("token", ["t1", "t2"])
def test_either_token_of_a_rotation_is_accepted(serve: Serve, tmp_path: Path, token: str) -> None:
    with serve(api_tokens=("t1", "t2"), imports_dir=str(tmp_path / "i")) as service:
        answer = service.client.post("/api/messages", json=SEND,
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert answer.status_code == 200, answer.text


def test_no_token_configured_refuses_every_request(service: Service) -> None:
    before = notifications(service.app)
    for method, path, extra in ROUTES:
        given: dict[str, Any] = {"headers": {"Authorization": "Bearer t1"}, **extra}
        answer = service.client.request(method, path, **given)
        assert answer.status_code == 401, (path, answer.text)
        assert "ENGAGE_API_TOKEN" in answer.json()["reason"]
    assert notifications(service.app) == before
