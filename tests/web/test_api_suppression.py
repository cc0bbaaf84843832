"""`/api/suppressions` over real HTTP (uvicorn on a SQLite file): a signed SendGrid bounce
suppresses the address in the webhook's own transaction, `GET /api/suppressions/…` and
`/api/subscriptions/…` show it as `engage` prints it, `/api/can-send` refuses it with the
policy's reason, and `POST …/lift` with a reason lifts it; bad input is a 4xx naming the field,
no token a 401."""

from __future__ import annotations

import pytest

from tests.web.conftest import Service
from tests.web.signing import sendgrid, sendgrid_event
from tests.web.test_api_queries import authorised, cli_lines

__all__ = ["authorised"]

ADDRESS = "user0@example.com"


def _bounce(service: Service, message: str) -> None:
    event = {**sendgrid_event(message, 0, "bounce"), "type": "bounce", "reason": "550 no user"}
    answer = service.post("/webhooks/sendgrid", sendgrid([event]))
    assert answer.status_code == 200, answer.text


def test_a_bounce_suppresses_and_a_lift_with_a_reason_lifts_it(authorised: Service) -> None:
    client = authorised.client
    before = client.get(f"/api/suppressions/email/{ADDRESS}").json()
    assert before["suppressed"] is False
    assert before["suppression"] is None
    _bounce(authorised, "bounced-1")
    shown = client.get(f"/api/suppressions/EMAIL/{ADDRESS.upper()}")
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "application/json"
    answer = shown.json()
    assert answer["suppression"]["rule"] == "hard_bounce"
    assert answer["suppression"]["policy"] == "policy@v1"
    assert answer["suppression"]["evidence"] == ["ev-bounced-1-0-bounce"]
    assert [cli_lines(authorised.app, "suppression", "show", "email", ADDRESS)[0]] == [answer]
    subscription = client.get(f"/api/subscriptions/email/{ADDRESS}").json()
    assert subscription["suppression"] == answer["suppression"]
    for transactional in ("false", "true"):
        refused = client.get("/api/can-send", params={
            "channel": "email", "key": ADDRESS, "transactional": transactional}).json()  # fmt: skip
        assert refused["allowed"] is False
        assert refused["reason"].startswith("suppressed by policy@v1: hard bounce")

    body = {"reason": "address confirmed by phone", "operator": "ann"}
    lifted = client.post(f"/api/suppressions/email/{ADDRESS}/lift", json=body)
    assert lifted.status_code == 200, lifted.text
    document = lifted.json()
    assert document["lifted"] == answer["suppression"]
    assert document["suppressed"] is False
    assert document["lifts"][0]["operator"] == "ann"
    assert [h["cause"] for h in document["history"]] == ["fact", "lift"]
    allowed = client.get("/api/can-send", params={
        "channel": "email", "key": ADDRESS, "transactional": "true"}).json()  # fmt: skip
    assert allowed == {"allowed": True, "reason": "transactional: not unsubscribed"}


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/api/suppressions/email/{a}/lift", {"reason": "  "}, 400, "reason"),
    ("/api/suppressions/email/{a}/lift", {}, 400, "reason"),
    ("/api/suppressions/email/{a}/lift", {"reason": 5}, 400, "reason"),
    ("/api/suppressions/email/{a}/lift", {"reason": "two\nlines"}, 400, "reason"),
    ("/api/suppressions/email/{a}/lift", {"reason": "x" * 1001}, 400, "reason"),
    ("/api/suppressions/email/{a}/lift", {"reason": "ok", "operator": ""}, 400, "operator"),
    ("/api/suppressions/email/{a}/lift", {"reason": "ok", "who": "x"}, 400, "who"),
    ("/api/suppressions/fax/{a}/lift", {"reason": "ok"}, 400, "channel"),
    ("/api/suppressions/email/not-an-address/lift", {"reason": "ok"}, 400, "key"),
    ("/api/suppressions/email/{a}/lift", ["reason"], 400, "body"),
])  # fmt: skip
def test_a_bad_lift_is_a_4xx_naming_the_field_and_records_nothing(
    authorised: Service, path: str, body: object, status: int, field: str
) -> None:
    stored = authorised.app.recorder.max_notification_id()
    answer = authorised.client.post(path.format(a=ADDRESS), json=body)
    assert answer.status_code == status, answer.text
    document = answer.json()
    assert document["field"] == field
    assert field in document["reason"]
    assert document["error"] == "bad request"
    assert authorised.app.recorder.max_notification_id() == stored


def test_refused_without_a_token_and_unknown_parameters_named(authorised: Service) -> None:
    anonymous = authorised.client.get(f"/api/suppressions/email/{ADDRESS}",
                                      headers={"Authorization": ""})  # fmt: skip
    assert anonymous.status_code == 401
    wrong = {"Authorization": "Bearer no"}
    lift = authorised.client.post(f"/api/suppressions/email/{ADDRESS}/lift",
                                  json={"reason": "x"}, headers=wrong)  # fmt: skip
    assert lift.status_code == 401
    extra = authorised.client.get(f"/api/suppressions/email/{ADDRESS}?as_of=now")
    assert extra.status_code == 400
    assert extra.json()["field"] == "as_of"
    text = authorised.client.post(f"/api/suppressions/email/{ADDRESS}/lift", content=b"reason",
                                  headers={"Content-Type": "text/plain"})  # fmt: skip
    assert text.status_code == 415
