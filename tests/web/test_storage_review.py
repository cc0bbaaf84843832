"""Storage failing is told to callers as a fixed reason, over real HTTP: a 503 goes to anyone
(signed or not), and a storage exception's own text can name hosts, users, files or SQL. The
detail goes to the operator's log instead, masked, under the request's id."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import orjson

from adapters.web.observability import JsonLinesFormatter
from tests.web.conftest import Serve
from tests.web.signing import twilio, twilio_params

REASON = "storage unavailable; retry"
TOKEN = "review-api-token-0001"
WRITE_KEY = "review-write-key-0001"
SPACE = "spa_review"


@contextmanager
def engage_lines() -> Iterator[list[dict[str, object]]]:
    """The `engage` loggers' lines written during the block, parsed when it ends."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("engage")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    lines: list[dict[str, object]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        lines.extend(orjson.loads(line) for line in stream.getvalue().splitlines())


def test_every_503_gives_a_fixed_reason_and_logs_the_detail(serve: Serve) -> None:
    basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    identify = {"type": "identify", "userId": "u1", "messageId": "m1", "context": {
        "messaging_subscriptions": [{"key": "ada@example.com", "type": "EMAIL",
                                     "status": "SUBSCRIBED"}]}}  # fmt: skip
    with engage_lines() as lines, serve(write_keys=(WRITE_KEY,), api_tokens=(TOKEN,),
                                        space=SPACE, deliver=False) as service:  # fmt: skip
        service.app.recorder.datastore.close()
        url = service.url + "/webhooks/twilio"
        answers: dict[str, httpx.Response] = {
            "webhook": service.post("/webhooks/twilio", twilio(url, twilio_params("SMF1"))),
            "tracking": service.client.post("/v1/identify", json=identify,
                                            headers={"Authorization": f"Basic {basic}"}),
            "public": service.client.put(
                f"/spaces/{SPACE}/messaging-subscriptions",
                json={"subscriptions": [{"key": "ada@example.com", "type": "EMAIL",
                                         "status": "SUBSCRIBED"}]},
                headers={"Authorization": f"Bearer {TOKEN}"}),
            "api": service.client.get("/api/can-send", params={"channel": "sms",
                                      "key": "+12135618345"},
                                      headers={"Authorization": f"Bearer {TOKEN}"}),
            "readyz": service.client.get("/readyz"),
        }  # fmt: skip
    for name, answer in answers.items():
        assert answer.status_code == 503, (name, answer.text)
        assert answer.json()["reason"] == REASON, (name, answer.text)
    logged = {line["request_id"]: line for line in lines
              if line.get("event") == "storage_unavailable"}  # fmt: skip
    for name, answer in answers.items():
        line = logged.get(answer.headers["x-request-id"])
        assert line is not None, (name, lines)
        assert line["logger"] == "engage.error"
        assert line["level"] == "warning"
        assert line["message"] != REASON
        assert str(line["error"]) in str(line["message"])
