"""Every route against `/openapi.json`, by schemathesis over real HTTP: for requests drawn from
the document (valid and invalid alike, with and without credentials), the service never answers
a 5xx and never answers anything the document does not declare (status, content type, schema).

The server is the real one (uvicorn on 127.0.0.1) over a SQLite file, with a write key and an
API token configured; each drawn request carries the credential its route takes, so the drawn
bodies and parameters reach the code behind the authentication, not only the 401."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.stores import open_application
from adapters.web import WebSettings, create_app
from tests.web.conftest import running
from tests.web.signing import ENVIRON

# per operation and run; `make test-slow` (HYPOTHESIS_PROFILE=slow) draws many more
EXAMPLES = 200 if os.environ.get("HYPOTHESIS_PROFILE") == "slow" else 12
WRITE_KEY = "schemathesis-write-key"
API_TOKEN = "schemathesis-api-token"
SPACE = {"space_id": "default"}
CHECKS = [
    not_a_server_error, response_schema_conformance, status_code_conformance,
    content_type_conformance,
]  # fmt: skip


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("openapi")
    app = open_application(f"sqlite:///{folder / 'engage.db'}")
    web = attrs.evolve(
        WebSettings.from_environment(ENVIRON), write_keys=(WRITE_KEY,), api_tokens=(API_TOKEN,),
        imports_dir=str(folder / "imports"), deliver=False,
    )  # fmt: skip
    try:
        with running(create_app(app, web)) as url:
            yield url
    finally:
        app.close()


def _credentials(path: str) -> dict[str, str]:
    if path.startswith("/v1/"):
        key = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
        return {"Authorization": f"Basic {key}"}
    if path.startswith(("/api/", "/spaces/")):
        return {"Authorization": f"Bearer {API_TOKEN}"}
    return {}


def test_the_document_is_openapi_3_1_and_names_every_route(live_url: str) -> None:
    document = httpx.get(f"{live_url}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = set(document["paths"])
    expected = {
        "/healthz", "/readyz", "/metrics", "/webhooks/twilio", "/webhooks/sendgrid",
        "/webhooks/meta", "/v1/identify", "/v1/track", "/v1/batch",
        "/spaces/{space_id}/messaging-subscriptions",
        "/spaces/{space_id}/messaging-subscriptions/batch", "/api/messages",
        "/api/messages/{message_id}", "/api/can-send", "/api/subscriptions/csv",
        "/api/events", "/api/quarantine",
    }  # fmt: skip
    assert expected <= paths, expected - paths
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()
           if isinstance(op, dict) and "operationId" in op]  # fmt: skip
    assert len(ids) == len(set(ids)), "operationIds are unique"


def test_every_route_keeps_to_the_document(live_url: str) -> None:
    """Each operation in turn, with valid and invalid requests drawn from the document."""
    api_schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    checked = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation the document cannot describe: {result}"
        operation = result.ok()
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        drawn = st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes])
        if "{space_id}" in operation.path:  # the configured space too, so bodies get past 404
            drawn |= st.one_of([operation.as_strategy(generation_mode=mode, path_parameters=SPACE)
                                for mode in modes])  # fmt: skip

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=drawn)
        def keeps_to_the_document(case: Any) -> None:
            headers = {**(case.headers or {}), **_credentials(case.path)}
            case.call_and_validate(headers=headers, checks=CHECKS)

        keeps_to_the_document()
        checked.append(operation.label)
    assert len(checked) >= 17, checked
