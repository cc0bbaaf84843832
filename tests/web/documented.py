"""Answers checked against the service's own `/openapi.json`: the status is one the operation
declares, and the body keeps to the JSON schema declared for it (refs into the document's
components resolved), so a route and its documentation cannot drift apart unnoticed."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema_rs

__all__ = ["assert_documented"]


def assert_documented(
    client: httpx.Client, method: str, template: str, answer: httpx.Response
) -> None:
    """`answer` (to `method` on the path `template`, e.g. `/spaces/{space_id}/...`) is one the
    document declares, in status, content type and schema."""
    document: dict[str, Any] = client.get("/openapi.json").json()
    responses = document["paths"][template][method.lower()]["responses"]
    assert str(answer.status_code) in responses, (template, answer.status_code)
    content = responses[str(answer.status_code)]["content"]
    media = answer.headers["content-type"].partition(";")[0]
    assert media in content, (template, media)
    schema = {**content[media]["schema"], "components": document["components"]}
    jsonschema_rs.Draft202012Validator(schema).validate(answer.json())
