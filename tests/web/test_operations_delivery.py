"""The service delivers by itself: a JSONL destination configured next to the store receives
the outbox events of a webhook request without `engage deliver`, and /metrics shows its
lag falling to zero; with `deliver=False` nothing is delivered here."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
from prometheus_client.parser import text_string_to_metric_families

from tests.web.conftest import Serve, Service
from tests.web.signing import twilio, twilio_params

PATH = "/webhooks/twilio"


def _configure(store_dir: Path) -> Path:
    (store_dir / "engage.toml").write_text(
        '[delivery]\npoll_interval = 0.1\n\n[destinations.archive]\ntype = "jsonl"\n'
        'path = "delivered.jsonl"\n'
    )
    return store_dir / "delivered.jsonl"


def _delivered(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _lag(service: Service) -> float | None:
    for family in text_string_to_metric_families(service.client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "engage_outbox_lag_events":
                return sample.value
    return None


def test_a_webhook_request_reaches_the_destination_without_engage_deliver(
    serve: Serve, tmp_path: Path
) -> None:
    target = _configure(tmp_path)
    with serve() as service:
        answer = service.post(PATH, twilio(service.url + PATH, twilio_params("SMD1")))
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 15
        while not any(event.get("event") == "SMS Delivered" for event in _delivered(target)):
            assert time.monotonic() < deadline, _delivered(target)
            time.sleep(0.05)
        while _lag(service) != 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    events = _delivered(target)
    assert len({event["messageId"] for event in events}) == len(events)  # each once


def test_no_delivery_when_the_service_does_not_deliver(serve: Serve, tmp_path: Path) -> None:
    target = _configure(tmp_path)
    with serve(deliver=False) as service:
        answer = service.post(PATH, twilio(service.url + PATH, twilio_params("SMD2")))
        assert answer.status_code == 200, answer.text
        time.sleep(0.5)
    assert _delivered(target) == []
