"""Whatever a caller puts in an `/api/` request's query, path or send body, the answer is never
a 5xx: a value that cannot be read is a 400 (or 404) naming what was wrong, as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.stores import open_application
from adapters.web import WebSettings, create_app
from tests.web.conftest import Service, running
from tests.web.signing import ENVIRON
from tests.web.test_api_queries import AUTH

NAMES = ["channel", "key", "group", "as_of", "history", "transactional", "since", "limit", "all",
         "provider", "provider_message_id", "x"]  # fmt: skip
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
VALUES = st.one_of(TEXT, st.integers(-(2**70), 2**70).map(str), st.sampled_from(
    ["sms", "EMAIL", "whatsapp", "true", "0", "ann@example.com", "+12135618345", "news",
     "2026-01-01T00:00:00Z", ""]))  # fmt: skip
PARAMS = st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=5)
PATHS = ["/api/messages", "/api/can-send", "/api/events", "/api/quarantine",
         "/api/subscriptions/email/ann@example.com"]  # fmt: skip
FINITE = st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | FINITE | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
SEND_FIELDS = ["channel", "provider", "provider_message_id", "to", "user_id", "campaign_id",
               "sent_at", "email_subject"]  # fmt: skip
SENDS = st.dictionaries(st.sampled_from(SEND_FIELDS) | TEXT, JSON | VALUES, max_size=6)
SLOW = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One server for every example (a module's worth), over a store the examples share."""
    folder: Path = tmp_path_factory.mktemp("api-properties")
    app = open_application(f"sqlite:///{folder / 'engage.db'}")
    web = attrs.evolve(WebSettings.from_environment(ENVIRON), api_tokens=("t2",),
                       imports_dir=str(folder / "imports"), deliver=False)  # fmt: skip
    try:
        with running(create_app(app, web)) as url, \
                httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:  # fmt: skip
            yield Service(url, app, client)
    finally:
        app.close()


def _answered(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        document = answer.json()
        assert document["reason"]
        assert document["error"]


@SLOW
@given(path=st.sampled_from(PATHS), params=PARAMS)
def test_arbitrary_query_parameters_never_give_a_5xx(
    api: Service, path: str, params: list[tuple[str, str | int | float | bool | None]]
) -> None:
    _answered(api.client.get(path, params=params))


@SLOW
@given(first=VALUES, second=VALUES, params=PARAMS)
def test_arbitrary_path_segments_never_give_a_5xx(
    api: Service,
    first: str,
    second: str,
    params: list[tuple[str, str | int | float | bool | None]],
) -> None:
    for path in (f"/api/subscriptions/{quote(first, safe='')}/{quote(second, safe='')}",
                 f"/api/messages/{quote(first, safe='')}",
                 f"/api/imports/{quote(first, safe='')}/errors.csv"):  # fmt: skip
        if path.endswith("//") or "//" in path or path.endswith("/"):
            continue  # an empty segment is another route (or none)
        _answered(api.client.get(path, params=params))


@SLOW
@given(body=SENDS)
def test_arbitrary_send_bodies_never_give_a_5xx(api: Service, body: dict[str, Any]) -> None:
    _answered(api.client.post("/api/messages", json=body))
