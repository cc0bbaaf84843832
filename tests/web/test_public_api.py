"""The Public API's messaging subscriptions over real HTTP: the PUT applies item by item and
answers each with Segment's error codes, a retry under the same Idempotency-Key changes
nothing, the batch query answers what holds; every route refuses a missing or wrong token
(401), another space (404) and every body it cannot take, changing nothing."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import orjson
import pytest

from engage_core import ContactKey
from engage_core.limits import Limits
from tests.web.conftest import Serve, Service
from tests.web.documented import assert_documented

TOKENS = ("api-token-current-0001", "api-token-previous-002")
SPACE = "spa_engage_test"
PUT = f"/spaces/{SPACE}/messaging-subscriptions"
QUERY = f"{PUT}/batch"
VND = "application/vnd.segment.v1alpha+json"
EMAIL = ContactKey.parse("EMAIL", "jacob@example.com")

REQUEST = {"subscriptions": [
    {"key": "jacob@example.com", "type": "EMAIL", "status": "SUBSCRIBED"},
    {"key": "jacob@example.com", "type": "email",
     "groups": [{"name": "promotions", "status": "subscribed"}]},
    {"key": "jane@example.com", "type": "EMAIL",
     "groups": [{"name": "promotions", "status": "SUBSCRIBED"}]},
    {"key": "pgibbonsexample.com", "type": "EMAIL", "status": "SUBSCRIBED"},
    {"key": "+1 213 561 8345", "type": "SMS", "status": "DID_NOT_SUBSCRIBE"},
    {"key": "2135618345", "type": "Pigeon", "status": "SUBSCRIBED"},
    {"key": "2135618345", "type": "SMS", "status": "MAYBE"},
]}  # fmt: skip


def bearer(token: str, media: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": media}


def stored(service: Service) -> int:
    return service.app.recorder.max_notification_id() or 0


def put(service: Service, document: object, **headers: str) -> httpx.Response:
    return service.client.put(PUT, content=orjson.dumps(document),
                              headers={**bearer(TOKENS[0]), **headers})  # fmt: skip


@pytest.fixture
def public(serve: Serve) -> Any:
    with serve(api_tokens=TOKENS, space=SPACE) as service:
        yield service


def test_put_applies_item_by_item_with_segments_error_codes(public: Service) -> None:
    answer = put(public, REQUEST)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert [(s["key"], s["outcome"]) for s in data["successes"]] == [
        ("jacob@example.com", "applied"), ("jacob@example.com", "applied"),
        ("+1 213 561 8345", "applied"),
    ]  # fmt: skip
    assert [(f["key"], f["errors"][0]["code"]) for f in data["failures"]] == [
        ("jane@example.com", "GLOBAL_STATE_NOT_SUBSCRIBED"),
        ("pgibbonsexample.com", "INVALID_EMAIL"),
        ("2135618345", "INVALID_REQUEST"),
        ("2135618345", "INVALID_SUBSCRIPTION_STATUS"),
    ]
    found = public.app.subscription(EMAIL)
    assert found.state.status is not None
    assert found.state.status.value == "SUBSCRIBED"
    assert found.groups["promotions"].status is not None
    jane = public.app.subscription(ContactKey.parse("EMAIL", "jane@example.com"))
    assert all(group.status is None for group in jane.groups.values())  # refused: recorded only


def test_a_retry_under_the_same_idempotency_key_changes_nothing(public: Service) -> None:
    first = put(public, REQUEST, **{"Idempotency-Key": "order-42-consent"})
    after_first = stored(public)
    retry = put(public, REQUEST, **{"Idempotency-Key": "order-42-consent"})
    assert retry.status_code == 200
    assert [s["outcome"] for s in retry.json()["data"]["successes"]] == ["duplicate"] * 3
    assert public.app.subscription(EMAIL).state.status is not None
    # the retry's failures are the first answer's; its successes say they were seen before
    assert retry.json()["data"]["failures"] == first.json()["data"]["failures"]
    answer = public.client.post(QUERY, content=orjson.dumps({"subscriptions": [
        {"key": "jacob@example.com", "type": "EMAIL"}]}), headers=bearer(TOKENS[0]))  # fmt: skip
    assert answer.json()["data"]["successes"][0]["status"] == "SUBSCRIBED"
    # without a key, a PUT is a new request: the same state again is "unchanged"
    fresh = put(public, REQUEST)
    assert [s["outcome"] for s in fresh.json()["data"]["successes"]] == ["unchanged"] * 3
    assert stored(public) >= after_first


def test_a_reused_idempotency_key_never_swallows_a_change(public: Service) -> None:
    """A different request under a key already used is a request of its own: its changed item
    applies, and the state it answers is the state stored."""
    key = {"Idempotency-Key": "reused-key"}
    subscribe = {"subscriptions": [{"key": "jacob@example.com", "type": "EMAIL",
                                    "status": "SUBSCRIBED"}]}  # fmt: skip
    unsubscribe = {"subscriptions": [{**subscribe["subscriptions"][0], "status": "UNSUBSCRIBED"}]}
    assert put(public, subscribe, **key).json()["data"]["successes"][0]["outcome"] == "applied"
    answer = put(public, unsubscribe, **key).json()["data"]["successes"][0]
    assert answer["outcome"] == "applied"
    status = public.app.subscription(EMAIL).state.status
    assert status is not None
    assert status.value == "UNSUBSCRIBED"
    again = put(public, unsubscribe, **key).json()["data"]["successes"][0]
    assert again["outcome"] == "duplicate"  # the same request again under the key: seen


def test_the_batch_query_answers_status_and_groups(public: Service) -> None:
    assert put(public, REQUEST, **{"Content-Type": VND}).status_code == 200
    before = stored(public)
    query = {"subscriptions": [
        {"key": "jacob@example.com", "type": "EMAIL"},
        {"key": "jacob@example.com", "type": "EMAIL", "groups": ["promotions", {"name": "news"}]},
        {"key": "(213) 561-8345", "type": "sms"},
        {"key": "nobody@example.com", "type": "EMAIL"},
        {"key": "not-an-email", "type": "EMAIL"},
        {"key": "2135618345", "type": "SMS", "groups": ["promotions"]},
        7,
    ]}  # fmt: skip
    answer = public.client.post(QUERY, content=orjson.dumps(query), headers=bearer(TOKENS[1]))
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    jacob, named, phone, nobody = data["successes"]
    assert (jacob["key"], jacob["type"], jacob["status"]) == ("jacob@example.com", "EMAIL",
                                                               "SUBSCRIBED")  # fmt: skip
    assert "updatedAt" in jacob
    assert [(g["name"], g["status"]) for g in jacob["groups"]] == [("promotions", "SUBSCRIBED")]
    assert [g["name"] for g in named["groups"]] == ["promotions"]  # news has no state
    assert (phone["key"], phone["type"], phone["status"]) == ("+12135618345", "SMS",
                                                               "DID_NOT_SUBSCRIBE")  # fmt: skip
    assert "status" not in nobody
    assert nobody["groups"] == []
    assert [f["errors"][0]["code"] for f in data["failures"]] == [
        "INVALID_EMAIL", "INVALID_REQUEST", "INVALID_REQUEST"]  # fmt: skip
    assert data["failures"][0]["key"] == "not-an-email"
    assert data["errors"] == []
    assert stored(public) == before  # a query writes nothing


@pytest.mark.parametrize(("method", "path"), [("PUT", PUT), ("POST", QUERY)])
def test_every_route_refuses_missing_or_wrong_tokens_and_changes_nothing(
    public: Service, method: str, path: str
) -> None:
    before = stored(public)
    body = orjson.dumps(REQUEST)
    wrong = [{"Content-Type": "application/json"}, bearer("not-a-token"), bearer("x"),
             {**bearer(TOKENS[0]), "Authorization": f"Basic {TOKENS[0]}"}]  # fmt: skip
    for headers in wrong:
        for target in (path, path.replace(SPACE, "other-space")):
            answer = public.client.request(method, target, content=body, headers=headers)
            assert answer.status_code == 401, (headers, answer.text)
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert TOKENS[0] not in answer.text
    assert stored(public) == before
    assert public.app.subscription(EMAIL).state.status is None


def test_both_tokens_of_a_rotation_work_and_none_configured_refuses_all(serve: Serve) -> None:
    with serve(api_tokens=TOKENS, space=SPACE) as service:
        for token in TOKENS:
            answer = service.client.put(PUT, content=orjson.dumps(REQUEST), headers=bearer(token))
            assert answer.status_code == 200, answer.text
    with serve(api_tokens=(), space=SPACE) as closed:
        before = stored(closed)
        assert put(closed, REQUEST).status_code == 401
        assert stored(closed) == before


@pytest.mark.parametrize(("method", "path"), [("PUT", PUT), ("POST", QUERY)])
def test_another_space_is_not_found(public: Service, method: str, path: str) -> None:
    before = stored(public)
    for space in ("default", "spa_other", SPACE.upper()):
        target = path.replace(SPACE, space)
        answer = public.client.request(method, target, content=orjson.dumps(REQUEST),
                                       headers=bearer(TOKENS[0]))  # fmt: skip
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "not found"
    assert stored(public) == before


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (b"{not json", {}, 400),
        (b'{"subscriptions": {"key": "a@example.com"}}', {}, 400),
        (b"[]", {}, 400),
        (orjson.dumps(REQUEST), {"Idempotency-Key": b"caf\xe9"}, 400),
        (orjson.dumps(REQUEST), {"Idempotency-Key": "k" * 256}, 400),
        (orjson.dumps(REQUEST), {"Content-Type": "text/csv"}, 415),
        (orjson.dumps(REQUEST), {"Content-Encoding": "deflate"}, 415),
        (b"[" + b" " * 5000 + b"]", {}, 413),
        (gzip.compress(b'{"subscriptions": [' + b" " * 1_000_000 + b"]}"),
         {"Content-Encoding": "gzip"}, 413),
    ],
    ids=["not-json", "not-a-list", "not-an-object", "latin-1-key", "long-key", "csv", "deflate",
         "oversized", "gzip-bomb"],
)  # fmt: skip
def test_bodies_it_cannot_take_are_refused_and_change_nothing(
    serve: Serve, body: bytes, headers: dict[str, Any], expected: int
) -> None:
    with serve(api_tokens=TOKENS, space=SPACE, limits=Limits(api_request_bytes=4096)) as service:
        before = stored(service)
        answer = service.client.put(PUT, content=body, headers={**bearer(TOKENS[0]), **headers})
        assert answer.status_code == expected, answer.text
        assert answer.json()["reason"]
        assert stored(service) == before


def test_gzip_bodies_and_segments_media_type_are_taken(public: Service) -> None:
    body = gzip.compress(orjson.dumps(REQUEST))
    headers = {**bearer(TOKENS[0], VND), "Content-Encoding": "gzip"}
    answer = public.client.put(PUT, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]["successes"]) == 3


def test_a_request_over_the_item_limit_is_refused_whole(serve: Serve) -> None:
    with serve(api_tokens=TOKENS, space=SPACE, limits=Limits(api_items=3)) as service:
        before = stored(service)
        for method, path in (("PUT", PUT), ("POST", QUERY)):
            answer = service.client.request(method, path, content=orjson.dumps(REQUEST),
                                            headers=bearer(TOKENS[0]))  # fmt: skip
            assert answer.status_code == 413
            assert "ENGAGE_MAX_API_ITEMS" in answer.json()["reason"]
        assert stored(service) == before


def test_answers_keep_to_the_openapi_document(public: Service) -> None:
    query = {"subscriptions": [{"key": "jacob@example.com", "type": "EMAIL"}, {"key": 5}, None]}
    asked = [
        ("PUT", PUT, orjson.dumps(REQUEST), bearer(TOKENS[0])),
        ("POST", QUERY, orjson.dumps(query), bearer(TOKENS[0])),
        ("POST", QUERY, orjson.dumps(REQUEST), bearer(TOKENS[0], VND)),
        ("PUT", PUT, b"{", bearer(TOKENS[0])),
        ("POST", QUERY, b"{}", bearer(TOKENS[0])),
        ("PUT", PUT, orjson.dumps(REQUEST), bearer("wrong")),
        ("POST", QUERY.replace(SPACE, "elsewhere"), orjson.dumps(query), bearer(TOKENS[0])),
        ("PUT", PUT, orjson.dumps(REQUEST), bearer(TOKENS[0], "text/plain")),
    ]
    statuses = set()
    for method, path, body, headers in asked:
        answer = public.client.request(method, path, content=body, headers=headers)
        template = path.replace(SPACE, "{space_id}").replace("elsewhere", "{space_id}")
        assert_documented(public.client, method, template, answer)
        statuses.add(answer.status_code)
    assert statuses == {200, 400, 401, 404, 415}
