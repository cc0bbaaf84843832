"""The Tracking API over real HTTP: Segment's own `segment-analytics-python` client (sync and
batched, gzip on and off) changes consent with identify calls and changes nothing with the
rest; every route refuses a missing or wrong write key, and every body it cannot take, with
the status the docs give and nothing stored."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segment.analytics import Client  # type: ignore[import-untyped]
from segment.analytics.request import APIError  # type: ignore[import-untyped]

from engage_core import ContactKey
from engage_core.limits import Limits
from tests.web.conftest import Serve, Service
from tests.web.documented import assert_documented

KEYS = ("write-key-current-0001", "write-key-previous-002")
ROUTES = ("/v1/batch", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group",
          "/v1/alias")  # fmt: skip
EMAIL = ContactKey.parse("EMAIL", "ada@example.com")


def basic(key: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{key}:".encode()).decode()
    return {"Authorization": f"Basic {encoded}", "Content-Type": "application/json"}


def stored(service: Service) -> int:
    return service.app.recorder.max_notification_id() or 0


def subscriptions(*items: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_subscriptions": list(items)}


def status(service: Service, contact: ContactKey, group: str | None = None) -> str | None:
    found = service.app.subscription(contact, groups=[group] if group else None)
    state = found.groups[group] if group else found.state
    return state.status.value if state.status else None


@pytest.fixture
def tracked(serve: Serve) -> Any:
    with serve(write_keys=KEYS) as service:
        yield service


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_segment_client_identify_changes_consent_and_track_changes_nothing(
    tracked: Service, compress: bool
) -> None:
    client = Client(KEYS[0], host=tracked.url, sync_mode=True, gzip=compress)
    client.identify("user-7", {"plan": "pro"}, context=subscriptions(
        {"key": "ada@example.com", "type": "EMAIL", "status": "SUBSCRIBED",
         "groups": [{"name": "news", "status": "SUBSCRIBED"}]},
        {"key": "+1 (415) 555-0100", "type": "sms", "status": "subscribed"},
    ))  # fmt: skip
    assert status(tracked, EMAIL) == "SUBSCRIBED"
    assert status(tracked, EMAIL, "news") == "SUBSCRIBED"
    assert status(tracked, ContactKey.parse("SMS", "+14155550100")) == "SUBSCRIBED"
    assert tracked.app.subscription(EMAIL).user_ids == ("user-7",)

    before = stored(tracked)
    client.track("user-7", "Order Completed", {"total": 12})
    client.page("user-7", name="Home")
    client.identify("user-7", {"plan": "team"})  # no subscriptions: acknowledged only
    client.group("user-7", "acme")
    client.alias("anon-1", "user-7")
    assert stored(tracked) == before


def test_segment_client_batches_in_the_background_and_flush_delivers(tracked: Service) -> None:
    errors: list[Exception] = []
    client = Client(KEYS[1], host=tracked.url, gzip=True, upload_size=10, max_retries=0,
                    on_error=lambda error, _: errors.append(error))  # fmt: skip
    for n in range(25):
        item = {"key": f"person{n}@example.com", "type": "EMAIL", "status": "UNSUBSCRIBED"}
        client.identify(f"user-{n}", context=subscriptions(item))
        client.track(f"user-{n}", "Signed Up")
    client.flush()
    client.join()
    assert errors == []
    for n in range(25):
        assert status(tracked, ContactKey.parse("EMAIL", f"person{n}@example.com")) == \
            "UNSUBSCRIBED"  # fmt: skip


def test_the_answer_is_segments_with_engages_counts(tracked: Service) -> None:
    call = {"type": "identify", "userId": "u1", "messageId": "m-1",
            "context": subscriptions({"key": "ada@example.com", "type": "EMAIL",
                                      "status": "SUBSCRIBED"},
                                     {"key": "not-an-email", "type": "EMAIL",
                                      "status": "SUBSCRIBED"})}  # fmt: skip
    batch = {"batch": [call, {"type": "track", "event": "X", "userId": "u1"}, 5,
                       {"type": "launch"}], "writeKey": KEYS[0]}  # fmt: skip
    answer = tracked.client.post("/v1/batch", content=orjson.dumps(batch), headers=basic(KEYS[0]))
    assert answer.status_code == 200
    document = answer.json()
    assert document["success"] is True
    assert (document["calls"], document["acknowledged"], document["rejected"]) == (4, 1, 2)
    assert document["subscriptions"]["received"] == 2
    assert document["subscriptions"]["applied"] == 1
    assert document["subscriptions"]["rejected"] == 1
    assert [e["code"] for e in document["errors"]] == [
        "INVALID_REQUEST", "INVALID_REQUEST", "INVALID_EMAIL"]  # fmt: skip
    assert KEYS[0] not in answer.text
    # the same call again (its messageId the same) is a duplicate and applies nothing
    again = tracked.client.post("/v1/identify", content=orjson.dumps(call),
                                headers=basic(KEYS[0])).json()  # fmt: skip
    assert (again["subscriptions"]["duplicates"], again["subscriptions"]["applied"]) == (1, 0)


def test_one_call_routes_take_their_type_from_the_path(tracked: Service) -> None:
    call = {"userId": "u2", "context": subscriptions(
        {"key": "ada@example.com", "type": "EMAIL", "status": "DID_NOT_SUBSCRIBE"})}  # fmt: skip
    tracked_only = tracked.client.post("/v1/track", content=orjson.dumps(call),
                                       headers=basic(KEYS[0]))  # fmt: skip
    assert tracked_only.json()["acknowledged"] == 1
    assert status(tracked, EMAIL) is None
    identified = tracked.client.post("/v1/identify", content=orjson.dumps(call),
                                     headers=basic(KEYS[0]))  # fmt: skip
    assert identified.json()["subscriptions"]["applied"] == 1
    assert status(tracked, EMAIL) == "DID_NOT_SUBSCRIBE"


def _identify_body() -> bytes:
    return orjson.dumps({"batch": [{"type": "identify", "userId": "u", "context": subscriptions(
        {"key": "ada@example.com", "type": "EMAIL", "status": "SUBSCRIBED"})}]})  # fmt: skip


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_refuses_a_missing_or_wrong_key_and_changes_nothing(
    tracked: Service, route: str
) -> None:
    before = stored(tracked)
    wrong = [
        {"Content-Type": "application/json"},
        basic("not-a-key"),
        basic(""),
        {**basic(KEYS[0]), "Authorization": f"Bearer {KEYS[0]}"},
        {**basic(KEYS[0]), "Authorization": "Basic %%%"},
    ]
    for headers in wrong:
        answer = tracked.client.post(route, content=_identify_body(), headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["www-authenticate"].startswith("Basic")
        assert KEYS[0] not in answer.text
    assert stored(tracked) == before
    assert status(tracked, EMAIL) is None


def test_both_keys_of_a_rotation_work_and_none_configured_refuses_all(serve: Serve) -> None:
    with serve(write_keys=KEYS) as service:
        for key in KEYS:
            answer = service.client.post("/v1/batch", content=_identify_body(), headers=basic(key))
            assert answer.status_code == 200, answer.text
    with serve(write_keys=()) as closed:
        before = stored(closed)
        answer = closed.client.post("/v1/batch", content=_identify_body(), headers=basic(KEYS[0]))
        assert answer.status_code == 401
        assert stored(closed) == before


def test_the_client_sees_a_refusal_as_an_error(tracked: Service) -> None:
    client = Client("wrong-key", host=tracked.url, sync_mode=True)
    with pytest.raises(APIError) as refused:
        client.identify("u", context=subscriptions(
            {"key": "ada@example.com", "type": "EMAIL", "status": "SUBSCRIBED"}))  # fmt: skip
    assert refused.value.status == 401
    assert status(tracked, EMAIL) is None


def _bomb(size: int) -> bytes:
    return gzip.compress(b'{"batch": [' + b" " * size + b"]}", compresslevel=9)


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (b"{not json", {}, 400),
        (b"[1, 2]", {}, 400),
        (b'{"batch": {"type": "identify"}}', {}, 400),
        (b"\xff\xfe", {}, 400),
        (b"plain, not gzip", {"Content-Encoding": "gzip"}, 400),
        (gzip.compress(_identify_body())[:-12], {"Content-Encoding": "gzip"}, 400),
        (_identify_body(), {"Content-Type": "text/plain"}, 415),
        (_identify_body(), {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        (_identify_body(), {"Content-Encoding": "br"}, 415),
        (b"x" * 5000, {}, 413),
        (_bomb(1_000_000), {"Content-Encoding": "gzip"}, 413),
    ],
    ids=["not-json", "not-an-object", "batch-not-a-list", "not-utf8", "not-gzip",
         "cut-gzip", "text", "form", "brotli", "oversized", "gzip-bomb"],
)  # fmt: skip
def test_bodies_it_cannot_take_are_refused_and_change_nothing(
    serve: Serve, body: bytes, headers: dict[str, str], expected: int
) -> None:
    with serve(write_keys=KEYS, limits=Limits(api_request_bytes=4096)) as service:
        before = stored(service)
        answer = service.client.post("/v1/batch", content=body,
                                     headers={**basic(KEYS[0]), **headers})  # fmt: skip
        assert answer.status_code == expected, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["reason"]
        assert stored(service) == before


def test_a_gzip_bomb_under_the_default_limit_is_refused_unheld(tracked: Service) -> None:
    bomb = _bomb(64 * 1024 * 1024)  # 64 MiB of JSON in about 64 KiB of gzip
    assert len(bomb) < 100_000
    headers = {**basic(KEYS[0]), "Content-Encoding": "gzip"}
    answer = tracked.client.post("/v1/batch", content=bomb, headers=headers)
    assert answer.status_code == 413
    assert "inflates" in answer.json()["reason"]


def test_a_request_over_the_item_limit_is_refused_whole(serve: Serve) -> None:
    items = [{"key": f"p{n}@example.com", "type": "EMAIL", "status": "SUBSCRIBED"}
             for n in range(4)]  # fmt: skip
    body = orjson.dumps({"batch": [{"type": "identify", "context": subscriptions(*items)}]})
    with serve(write_keys=KEYS, limits=Limits(api_items=3)) as service:
        before = stored(service)
        answer = service.client.post("/v1/batch", content=body, headers=basic(KEYS[0]))
        assert answer.status_code == 413
        assert "ENGAGE_MAX_API_ITEMS" in answer.json()["reason"]
        assert stored(service) == before


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=20,
)  # fmt: skip
_CALLS = st.fixed_dictionaries({"batch": st.lists(
    st.fixed_dictionaries({"type": st.sampled_from(["identify", "track", "page", "other"])},
                          optional={"context": st.dictionaries(st.text(max_size=5), _JSON)}),
    max_size=5)})  # fmt: skip


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(document=_JSON | _CALLS)
def test_arbitrary_json_never_fails_the_server_or_stores_anything(
    tracked: Service, document: Any
) -> None:
    before = stored(tracked)
    answer = tracked.client.post("/v1/batch", content=orjson.dumps(document),
                                 headers=basic(KEYS[0]))  # fmt: skip
    assert answer.status_code in {200, 400}, answer.text
    # no drawn call names messaging_subscriptions, so nothing can be applied
    assert stored(tracked) == before
    if answer.status_code == 200:
        document = answer.json()
        assert document["calls"] == document["acknowledged"] + document["rejected"]


def test_any_identify_item_is_applied_or_rejected_with_a_reason(tracked: Service) -> None:
    odd: list[Any] = [None, 5, "x", {}, {"key": "ada@example.com"}, {"type": "EMAIL", "key": 7},
           {"key": "ada@example.com", "type": "EMAIL", "status": "MAYBE"},
           {"key": "ada@example.com", "type": "EMAIL", "groups": "news"}]  # fmt: skip
    not_a_list = {"type": "identify", "context": {"messaging_subscriptions": 1}}
    listed = {"type": "identify", "context": {"messaging_subscriptions": odd}}
    body = orjson.dumps({"batch": [listed, not_a_list]})
    answer = tracked.client.post("/v1/batch", content=body, headers=basic(KEYS[0]))
    assert answer.status_code == 200
    counts = answer.json()["subscriptions"]
    assert counts["received"] == len(odd) + 1 == counts["rejected"]
    assert status(tracked, EMAIL) is None


def test_answers_keep_to_the_openapi_document(tracked: Service) -> None:
    asked = [
        (_identify_body(), basic(KEYS[0])),
        (orjson.dumps({"batch": [5, {"type": "track"}]}), basic(KEYS[0])),
        (b"{", basic(KEYS[0])),
        (_identify_body(), basic("wrong")),
        (_identify_body(), {**basic(KEYS[0]), "Content-Type": "text/plain"}),
        (_bomb(8 * 1024 * 1024), {**basic(KEYS[0]), "Content-Encoding": "gzip"}),
    ]
    statuses = set()
    for route in ROUTES:
        for body, headers in asked:
            answer = tracked.client.post(route, content=body, headers=headers)
            assert_documented(tracked.client, "POST", route, answer)
            statuses.add(answer.status_code)
    assert statuses == {200, 400, 401, 413, 415}
