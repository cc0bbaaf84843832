"""Operating the service over real HTTP: /metrics counts exactly the requests made (parsed with
Prometheus' own parser), every request is one JSON access line under a request id that never
holds a secret, a query or a body, an unforeseen error is a logged 500, and /readyz says how
far behind the views are."""

from __future__ import annotations

import io
import logging
import time

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.web.observability import JsonLinesFormatter
from engage_core import Observation
from tests.web.conftest import Serve, Service
from tests.web.signing import VERIFY_TOKEN, twilio, twilio_params

PATH = "/webhooks/twilio"


def samples(service: Service) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = service.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:  # fmt: skip
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_the_requests_made(service: Service) -> None:
    for n in range(3):
        sid = f"SM{n}"
        assert service.post(PATH, twilio(service.url + PATH, twilio_params(sid))).status_code == 200
    for n in range(2):
        body, headers = twilio(service.url + PATH, twilio_params(f"SX{n}"))
        assert (
            service.post(PATH, (body, {"Content-Type": headers["Content-Type"]})).status_code == 401
        )
    for _ in range(4):
        assert service.client.get("/healthz").status_code == 200
    assert service.client.get("/nowhere").status_code == 404
    found = samples(service)
    requests = "engage_http_requests_total"
    assert value(found, requests, route=PATH, method="POST", status="200") == 3
    assert value(found, requests, route=PATH, method="POST", status="401") == 2
    assert value(found, requests, route="/healthz", method="GET", status="200") == 4
    assert value(found, requests, route="unmatched", method="GET", status="404") == 1
    latency = "engage_http_request_duration_seconds_count"
    assert value(found, latency, route=PATH) == 5
    assert value(found, "engage_inputs_total", source="twilio", outcome="applied") == 3
    assert value(found, "engage_inputs_total", source="twilio", outcome="rejected") == 2
    assert value(found, "engage_quarantine_held") == 2
    assert value(found, "engage_log_position") == service.app.recorder.max_notification_id()
    assert value(found, "engage_refusals_unheld_total", source="twilio") == 0
    # the scrape that answered is counted afterwards, as the next one shows
    again = samples(service)
    assert value(again, requests, route="/metrics", method="GET", status="200") == 1


def test_each_request_is_one_json_line_without_secrets(serve: Serve) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("engage")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with serve() as service:
            body, headers = twilio(service.url + PATH, twilio_params("SMSECRETBODY"))
            signed = service.post(PATH, (body, {**headers, "X-Request-Id": "prov-42.a:b_c"}))
            handshake = service.client.get(
                "/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                          "hub.challenge": "1158201444"},
                headers={"Authorization": "Bearer AUTHSECRET123", "X-Request-Id": "bad id!"},
            )  # fmt: skip
            long_id = service.client.get("/healthz", headers={"X-Request-Id": "x" * 129})
    finally:
        logger.removeHandler(handler)
    assert signed.status_code == 200
    assert handshake.status_code == 200
    assert signed.headers["x-request-id"] == "prov-42.a:b_c"
    made = handshake.headers["x-request-id"]
    assert made != "bad id!"
    assert len(made) == 32
    assert long_id.headers["x-request-id"] != "x" * 129
    text = stream.getvalue()
    for secret in (VERIFY_TOKEN, "AUTHSECRET123", "SMSECRETBODY", "1158201444", "hub.", "?"):
        assert secret not in text
    lines = [orjson.loads(line) for line in text.splitlines()]
    access = [line for line in lines if line["logger"] == "engage.access"]
    assert [line["request_id"] for line in access] == [
        "prov-42.a:b_c", made, long_id.headers["x-request-id"],
    ]  # fmt: skip
    assert [(line["route"], line["status"]) for line in access] == [
        (PATH, 200), ("/webhooks/meta", 200), ("/healthz", 200),
    ]  # fmt: skip
    assert all(line["duration_ms"] >= 0 and line["method"] in {"GET", "POST"} for line in access)
    assert access[1]["path"] == "/webhooks/meta"


def test_an_unforeseen_error_is_a_logged_500_with_the_request_id(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("something unforeseen")

    monkeypatch.setattr("adapters.web.handler.ingest", broken)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("engage")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with serve() as service:
            answer = service.post(PATH, twilio(service.url + PATH, twilio_params("SM9")))
    finally:
        logger.removeHandler(handler)
    assert answer.status_code == 500
    rid = answer.headers["x-request-id"]
    assert answer.json()["request_id"] == rid
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    (error,) = [line for line in lines if line["logger"] == "engage.error"]
    assert (error["request_id"], error["route"], error["error"]) == (rid, PATH, "ValueError")
    assert "something unforeseen" in error["message"]
    assert "Traceback" in error["exception"]
    (access,) = [line for line in lines if line["logger"] == "engage.access"]
    assert (access["request_id"], access["status"]) == (rid, 500)


def _observe(service: Service, count: int) -> None:
    service.app.observe([
        Observation.create(channel="sms", provider="twilio", provider_message_id=f"SMR{n}",
                           status="delivered", occurred_at="2026-01-01T00:00:00Z")
        for n in range(count)
    ])  # fmt: skip


def test_readyz_is_503_while_the_views_are_behind(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.web.background.Follower.poll", lambda self: None)
    with serve(ready_max_lag=2) as service:
        _observe(service, 3)
        behind = service.app.recorder.max_notification_id()
        answer = service.client.get("/readyz")
        assert answer.status_code == 503, answer.text
        assert answer.json()["status"] == "behind"
        assert answer.json()["lag"] == behind >= 3
        assert answer.json()["max_lag"] == 2
        assert f"{behind} events behind" in answer.json()["reason"]
    with serve(ready_max_lag=2, deliver=False) as service:  # someone else keeps the views
        answer = service.client.get("/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["views_kept_here"] is False
        assert answer.json()["lag"] == behind


def test_readyz_is_ready_once_the_service_caught_its_views_up(serve: Serve) -> None:
    with serve(ready_max_lag=0) as service:
        _observe(service, 3)
        deadline = time.monotonic() + 15
        while (answer := service.client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)
        assert answer.json()["lag"] == 0
        assert answer.json()["position"] == service.app.recorder.max_notification_id()
