"""SendGrid's and Meta's webhooks over real HTTP: signed batches land; tampered, unsigned,
wrong-type and malformed ones get their status and apply nothing; a rotated key or secret
list accepts either; Meta's GET handshake echoes the challenge or answers 403; storage
failing is the only 5xx."""

from __future__ import annotations

import orjson

from engage_core import Channel
from tests.providers.test_sendgrid import OTHER_KEY
from tests.web.conftest import Service
from tests.web.signing import (
    OLD_META_SECRET,
    VERIFY_TOKEN,
    meta,
    meta_signature,
    sendgrid,
    sendgrid_event,
)

SENDGRID, META = "/webhooks/sendgrid", "/webhooks/meta"


def test_a_signed_sendgrid_batch_lands(service: Service) -> None:
    events = [sendgrid_event(f"msgA{n}", n) for n in range(3)] + [{"event": "processed"}]
    answer = service.post(SENDGRID, sendgrid(events))
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert (counts["received"], counts["applied"], counts["quarantined"]) == (4, 3, 1)
    assert "held" in counts  # the bad event is kept, with its request
    assert service.status(Channel.EMAIL, "msgA2") == "delivered"


def test_a_rotated_sendgrid_key_list_accepts_either_key(service: Service) -> None:
    answer = service.post(SENDGRID, sendgrid([sendgrid_event("msgB")], OTHER_KEY))
    assert answer.status_code == 200, answer.text
    assert service.status(Channel.EMAIL, "msgB") == "delivered"


def test_sendgrid_refusals_apply_nothing(service: Service) -> None:
    body, headers = sendgrid([sendgrid_event("msgC")])
    before = service.applied()
    tampered = service.post(SENDGRID, (body.replace(b"user0", b"user9"), headers))
    unsigned = service.post(SENDGRID, (body, {"Content-Type": "application/json"}))
    wrong_type = service.post(SENDGRID, (body, {**headers, "Content-Type": "text/plain"}))
    malformed = service.post(SENDGRID, sendgrid({"not": "an array"}))
    statuses = [a.status_code for a in (tampered, unsigned, wrong_type, malformed)]
    assert statuses == [401, 401, 415, 400], [a.text for a in (tampered, malformed)]
    assert malformed.json()["error"] == "malformed body"
    assert service.applied() == before
    assert service.status(Channel.EMAIL, "msgC") is None
    # each held (the unsigned and the wrong-type body are one request, held twice)
    assert sum(entry.times_held for entry in service.app.held()) == 4


def test_a_signed_meta_notification_lands_and_either_secret_signs(service: Service) -> None:
    answer = service.post(META, meta("wamid.A"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] == 1
    old = service.post(META, meta("wamid.B", secret=OLD_META_SECRET))
    assert old.status_code == 200, old.text
    assert service.status(Channel.WHATSAPP, "wamid.A") == "delivered"
    assert service.status(Channel.WHATSAPP, "wamid.B") == "delivered"


def test_meta_refusals_apply_nothing(service: Service) -> None:
    body, headers = meta("wamid.C")
    before = service.applied()
    unsigned = service.post(META, (body, {"Content-Type": "application/json"}))
    other = service.post(META, meta("wamid.C", secret="9" * 32))
    signed_junk = {**headers, "X-Hub-Signature-256": meta_signature(b"{")}
    malformed = service.post(META, (b"{", signed_junk))
    assert [unsigned.status_code, other.status_code, malformed.status_code] == [401, 401, 400]
    assert service.applied() == before


def test_the_meta_handshake_echoes_the_challenge(service: Service) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
             "hub.challenge": "1158201444"}  # fmt: skip
    answer = service.client.get(META, params=query)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    assert answer.headers["content-type"].startswith("text/plain")
    wrong = service.client.get(META, params={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403
    assert wrong.json()["error"] == "handshake refused"
    assert service.client.get(META).status_code == 403
    assert list(service.app.held()) == []  # a handshake carries nothing to keep


def test_other_methods_and_paths_are_refused_by_the_router(service: Service) -> None:
    assert service.client.get("/webhooks/twilio").status_code == 405
    assert service.client.post("/webhooks/mailgun", content=b"{}").status_code == 404


def test_health_and_readiness(service: Service) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_storage_failing_is_503_so_the_provider_retries(service: Service) -> None:
    service.app.recorder.datastore.close()  # type: ignore[attr-defined]
    answer = service.post(META, meta("wamid.D"))
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "30"
    assert answer.json()["error"] == "storage unavailable"
    assert service.client.get("/readyz").status_code == 503
    assert service.client.get("/healthz").status_code == 200
    assert orjson.loads(answer.content)["reason"]
