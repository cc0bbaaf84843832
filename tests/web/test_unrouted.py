"""Requests no route takes are refused in the service's JSON too, over real HTTP: an unknown
path is 404 and a known path under another method 405 (with `Allow`), each
`{"error", "reason"}`, so a client or a proxy log reads every refusal the same way."""

from __future__ import annotations

import pytest

from tests.web.conftest import Service


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nowhere", 404), ("POST", "/webhooks/mailgun", 404), ("GET", "/api/../x", 404),
    ("DELETE", "/webhooks/twilio", 405), ("GET", "/webhooks/sendgrid", 405),
    ("PUT", "/v1/batch", 405),
])  # fmt: skip
def test_what_no_route_takes_is_refused_in_json(
    service: Service, method: str, path: str, status: int
) -> None:
    answer = service.client.request(method, path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert document["error"] in {"not found", "method not allowed"}
    assert document["reason"]
    if status == 405:
        assert "POST" in answer.headers["allow"]
