"""Twilio's webhook over real HTTP: a callback signed by Twilio's own validator lands (200,
stored, counted); what is tampered with, unsigned, over the limit, of another type or
malformed gets its documented status and applies nothing (only the refusal is held)."""

from __future__ import annotations

import hashlib

from engage_core import Channel
from engage_core.limits import Limits
from tests.web.conftest import Serve, Service
from tests.web.signing import OLD_TWILIO_TOKEN, twilio, twilio_params

PATH = "/webhooks/twilio"


def test_a_signed_callback_lands_once_stored(service: Service) -> None:
    answer = service.post(PATH, twilio(service.url + PATH, twilio_params("SM1")))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    counts = answer.json()
    assert (counts["received"], counts["applied"], counts["rejected"]) == (1, 1, 0)
    assert service.status(Channel.SMS, "SM1") == "delivered"
    again = service.post(PATH, twilio(service.url + PATH, twilio_params("SM1")))
    assert again.json()["duplicates"] == 1


def test_the_query_is_signed_and_kept(service: Service) -> None:
    url = service.url + PATH + "?engage_message_id=m-42"
    answer = service.post(PATH + "?engage_message_id=m-42", twilio(url, twilio_params("SM2")))
    assert answer.status_code == 200, answer.text
    message = service.app.find_message(Channel.SMS, "SM2")
    assert message is not None
    assert message.history[-1].details["url_query"] == {"engage_message_id": "m-42"}


def test_tampered_and_unsigned_requests_are_401_and_apply_nothing(service: Service) -> None:
    body, headers = twilio(service.url + PATH, twilio_params("SM3"))
    before = service.applied()
    tampered = service.post(PATH, (body.replace(b"delivered", b"failed"), headers))
    unsigned = service.post(PATH, (body, {"Content-Type": headers["Content-Type"]}))
    other_url = service.post(PATH + "?x=1", (body, headers))
    for answer in (tampered, unsigned, other_url):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "signature refused"
        assert "X-Twilio-Signature" in answer.json()["reason"]
    assert service.applied() == before
    assert service.status(Channel.SMS, "SM3") is None
    held = list(service.app.held())
    assert [entry.unauthenticated for entry in held] == [True, True, True]


def test_a_rotated_token_list_accepts_either_token(service: Service) -> None:
    old = service.post(PATH, twilio(service.url + PATH, twilio_params("SM4"), OLD_TWILIO_TOKEN))
    assert old.status_code == 200, old.text
    wrong = service.post(PATH, twilio(service.url + PATH, twilio_params("SM5"), "f" * 32))
    assert wrong.status_code == 401
    assert "tried each of the 2 secrets" in wrong.json()["reason"]
    assert service.status(Channel.SMS, "SM4") == "delivered"
    assert service.status(Channel.SMS, "SM5") is None


def test_a_body_over_the_limit_is_413_and_held_as_a_prefix(serve: Serve) -> None:
    with serve(limits=Limits(provider_body_bytes=2048)) as service:
        params = {**twilio_params("SM6"), "Body": "x" * 5000}
        body, headers = twilio(service.url + PATH, params)
        before = service.applied()
        answer = service.post(PATH, (body, headers))
        assert answer.status_code == 413, answer.text
        assert "ENGAGE_MAX_PROVIDER_BODY_BYTES" in answer.json()["reason"]
        assert service.applied() == before
        (entry,) = service.app.held()
        assert entry.request.truncated
        assert entry.request.body == body[:2048]  # the limit (below the 4 KiB prefix kept)
        assert entry.request.body_size == len(body)


def test_another_content_type_is_415(service: Service) -> None:
    body, headers = twilio(service.url + PATH, twilio_params("SM7"))
    answer = service.post(PATH, (body, {**headers, "Content-Type": "text/plain"}))
    assert answer.status_code == 415, answer.text
    assert answer.json()["error"] == "unsupported media type"
    assert service.status(Channel.SMS, "SM7") is None


def test_a_malformed_signed_body_is_400_with_its_reason(service: Service) -> None:
    """A JSON webhook (its hash in the signed URL) whose body is no JSON."""
    body = b"{not json"
    signed_url = f"{service.url}{PATH}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    _, headers = twilio(signed_url, {})
    before = service.applied()
    answer = service.post(signed_url.removeprefix(service.url),
                          (body, {**headers, "Content-Type": "application/json"}))  # fmt: skip
    assert answer.status_code == 400, answer.text
    document = answer.json()
    assert document["error"] == "malformed body"
    assert "JSON" in document["reason"]
    assert service.applied() == before
    (entry,) = service.app.held()
    assert (entry.refused, entry.unauthenticated) == (True, False)  # signed: held whole
    assert entry.request.body == body
