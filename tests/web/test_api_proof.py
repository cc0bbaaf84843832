"""`GET /api/proof/{channel}/{key}` over real HTTP exports what `engage proof` prints for the
same store (the same history and digest), as JSON or as a print-ready HTML page whose values
are escaped; a bad parameter is a 400 naming it, and the route needs the API token."""

from __future__ import annotations

from pathlib import Path

import orjson

from engage_core.consent.proof import digest_of
from tests.web.conftest import Service
from tests.web.test_api_queries import authorised, cli

__all__ = ["authorised"]

_ITEM = {"key": "Ada@Example.com", "type": "EMAIL", "status": "subscribed",
         "groups": [{"name": "news", "status": "subscribed"}]}  # fmt: skip


def _set(service: Service, tmp_path: Path, user_id: str) -> None:
    body = tmp_path / "set.json"
    body.write_bytes(orjson.dumps({"subscriptions": [_ITEM]}))
    code, printed = cli(service.app, "subscriptions", "set", str(body), "--request-id", user_id)
    assert code == 0, printed


def test_the_proof_over_http_is_the_one_engage_proof_prints(
    authorised: Service, tmp_path: Path
) -> None:
    _set(authorised, tmp_path, "req-<b>1</b>")
    answer = authorised.client.get("/api/proof/email/ada@example.com")
    assert answer.status_code == 200, answer.text
    document = answer.json()
    code, printed = cli(authorised.app, "proof", "EMAIL", "ada@example.com")
    assert code == 0
    exported = orjson.loads(printed)
    assert {**exported, "generated_at": None} == {**document, "generated_at": None}
    assert document["digest"] == digest_of(document)
    assert [(e["group"], e["source"], e["outcome"]) for e in document["history"]] == [
        (None, "api", "applied"), ("news", "api", "applied")]  # fmt: skip
    assert document["groups"]["news"]["status"] == "SUBSCRIBED"

    page = authorised.client.get("/api/proof/EMAIL/ada@example.com", params={"format": "html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert document["digest"] in page.text
    assert "<b>1</b>" not in page.text  # a source id is data, escaped
    assert "&lt;b&gt;1&lt;/b&gt;" in page.text

    code, html = cli(authorised.app, "proof", "email", "ada@example.com", "--format", "html")
    assert code == 0
    assert document["digest"] in html


def test_bad_parameters_are_named_and_the_route_needs_the_token(authorised: Service) -> None:
    for path, params, field in [
        ("/api/proof/fax/ada@example.com", {}, "channel"),
        ("/api/proof/email/not-an-address", {}, "key"),
        ("/api/proof/email/ada@example.com", {"format": "pdf"}, "format"),
        ("/api/proof/email/ada@example.com", {"as_of": "yesterday"}, "as_of"),
        ("/api/proof/email/ada@example.com", {"page": "2"}, "page"),
    ]:
        answer = authorised.client.get(path, params=params)
        assert answer.status_code == 400, (path, params, answer.text)
        assert answer.json()["field"] == field
    anonymous = authorised.client.get("/api/proof/email/ada@example.com",
                                      headers={"Authorization": ""})  # fmt: skip
    assert anonymous.status_code == 401
