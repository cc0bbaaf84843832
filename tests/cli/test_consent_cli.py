"""`engage subscriptions set`, `engage subscription` and `engage can-send` (issue 3)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import engage, lines

REQUEST = {
    "subscriptions": [
        {"key": "jacob@example.com", "type": "EMAIL", "status": "SUBSCRIBED"},
        {"key": "jacob@example.com", "type": "email",
         "groups": [{"name": "promotions", "status": "subscribed"}]},
        {"key": "jane@example.com", "type": "EMAIL",
         "groups": [{"name": "promotions", "status": "SUBSCRIBED"}]},
        {"key": "pgibbonsexample.com", "type": "EMAIL"},
        {"key": "2135618345", "type": "SMS", "status": "DID_NOT_SUBSCRIBE"},
        {"key": "2135618345", "type": "Pigeon", "status": "SUBSCRIBED"},
    ]
}  # fmt: skip


def test_the_public_api_shape_item_by_item(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    result = engage("--store", store, "subscriptions", "set", "-", stdin=json.dumps(REQUEST))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [s["key"] for s in answer["successes"]] == [
        "jacob@example.com", "jacob@example.com", "2135618345",
    ]  # fmt: skip
    assert [(f["key"], f["errors"][0]["code"]) for f in answer["failures"]] == [
        ("jane@example.com", "GLOBAL_STATE_NOT_SUBSCRIBED"),
        ("pgibbonsexample.com", "INVALID_EMAIL"),
        ("2135618345", "INVALID_REQUEST"),
    ]
    assert [s["outcome"] for s in answer["successes"]] == ["applied"] * 3
    again = engage("--store", store, "subscriptions", "set", "-", stdin=json.dumps(REQUEST))
    repeated = json.loads(again.stdout)
    # the same request is the same answer, each success saying it changed nothing this time
    assert [s.pop("outcome") for s in repeated["successes"]] == ["unchanged"] * 3
    for success in answer["successes"]:
        del success["outcome"]
    assert repeated == answer


def test_subscription_history_as_of_and_can_send(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    subscribe = {"subscriptions": [{"key": "+12135618345", "type": "SMS", "status": "SUBSCRIBED"}]}
    assert engage("--store", store, "subscriptions", "set", "-",
                  stdin=json.dumps(subscribe)).returncode == 0  # fmt: skip
    stop = lines({"channel": "sms", "provider": "twilio", "provider_message_id": "in1",
                  "status": "received", "details": {"From": "+12135618345", "Body": "stop"}
                  })  # fmt: skip
    assert engage("--store", store, "observe", "-", stdin=stop).returncode == 0

    shown = engage("--store", store, "subscription", "sms", "(213) 561-8345", "--history")
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert (state["status"], state["locked_by_user"]) == ("UNSUBSCRIBED", True)
    assert [(h["source"], h["status"], h["previous_status"]) for h in state["history"]] == [
        ("api", "SUBSCRIBED", None), ("keyword", "UNSUBSCRIBED", "SUBSCRIBED"),
    ]  # fmt: skip
    subscribed_at = state["history"][0]["effective_at"]  # before the STOP
    before = engage("--store", store, "subscription", "SMS", "+12135618345",
                    "--as-of", subscribed_at)  # fmt: skip
    assert json.loads(before.stdout)["status"] == "SUBSCRIBED"

    for flags, allowed in [([], False), (["--transactional"], False)]:
        check = engage("--store", store, "can-send", "sms", "+12135618345", *flags)
        answer = json.loads(check.stdout)
        assert answer["allowed"] is allowed
        assert "STOP" in answer["reason"]
    unknown = engage("--store", store, "can-send", "email", "new@example.com", "--transactional")
    assert json.loads(unknown.stdout)["allowed"] is True

    bad = engage("--store", store, "subscription", "sms", "hello")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_identify_calls(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    call = {
        "type": "identify", "userId": "12aBCDeFg4hIjKlM5OPq67RS8Tu", "messageId": "msg-1",
        "timestamp": "2026-03-01T10:00:00Z",
        "context": {"messaging_subscriptions": [
            {"key": "(213) 561-8345", "type": "SMS", "status": "SUBSCRIBED"},
            {"key": "(213) 561-8345", "type": "WhatsApp", "status": "DID_NOT_SUBSCRIBE"},
            {"key": "test@example.com", "type": "EMAIL", "status": "SUBSCRIBED",
             "groups": [{"name": "newsletter", "status": "SUBSCRIBED"}]},
        ]},
    }  # fmt: skip
    result = engage("--store", store, "subscriptions", "identify", "-", stdin=json.dumps(call))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "calls": 1, "received": 3, "applied": 3, "late": 0, "duplicates": 0, "unchanged": 0,
        "rejected": 0, "conflicts": 0, "partial": 0, "quarantined": 0, "clamped": 0,
    }  # fmt: skip
    replay = engage("--store", store, "subscriptions", "identify", "-",
                    stdin=lines(call, {"messageId": "msg-2", "context": {}}))  # fmt: skip
    counts = json.loads(replay.stdout)
    assert (counts["calls"], counts["applied"], counts["rejected"]) == (2, 0, 1)  # msg-1 again
    assert counts["duplicates"] == 3  # answered as repeats, not as successes
    shown = engage("--store", store, "subscription", "email", "test@example.com",
                   "--group", "newsletter", "--history")  # fmt: skip
    answer = json.loads(shown.stdout)
    assert answer["groups"] == {"newsletter": "SUBSCRIBED"}
    assert answer["history"][0]["source_id"] == "msg-1:000002"  # padded: items replay in order
    assert answer["history"][0]["effective_at"].startswith("2026-03-01T10:00:00")
    # the identify call's userId is linked to every contact it named, with provenance
    assert answer["user_ids"] == ["12aBCDeFg4hIjKlM5OPq67RS8Tu"]
    assert answer["history"][0]["user_id"] == "12aBCDeFg4hIjKlM5OPq67RS8Tu"
    sms = json.loads(engage("--store", store, "subscription", "sms", "+12135618345").stdout)
    assert sms["user_ids"] == ["12aBCDeFg4hIjKlM5OPq67RS8Tu"]


def test_an_address_lists_every_group_it_has(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    csv_file = tmp_path / "groups.csv"
    csv_file.write_text(
        "email,email_subscription_status,Newsletter_subscription_status,"
        "promotions_subscription_status\n"
        "jo@example.com,subscribed,subscribed,\n"
        "jo@example.com,,,unsubscribed\n"
        "al@example.com,unsubscribed,subscribed,\n"  # refused: the channel is not subscribed
    )
    assert engage("--store", store, "subscriptions", "import", str(csv_file)).returncode == 0
    jo = json.loads(engage("--store", store, "subscription", "email", "JO@example.com").stdout)
    assert jo["groups"] == {"Newsletter": "SUBSCRIBED", "promotions": "UNSUBSCRIBED"}
    al = json.loads(engage("--store", store, "subscription", "email", "al@example.com").stdout)
    assert al["groups"] == {"Newsletter": None}  # an update was recorded (refused): no state
    only = engage("--store", store, "subscription", "email", "jo@example.com",
                  "--group", "promotions")  # fmt: skip
    assert json.loads(only.stdout)["groups"] == {"promotions": "UNSUBSCRIBED"}


def test_items_of_a_long_request_replay_in_request_order(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    items = [{"key": f"u{n}@x.com", "type": "EMAIL", "status": "SUBSCRIBED"} for n in range(12)]
    items[2] = {"key": "a@x.com", "type": "EMAIL", "status": "SUBSCRIBED"}
    items[10] = {"key": "a@x.com", "type": "EMAIL", "status": "UNSUBSCRIBED"}
    engage(
        "--store", store, "subscriptions", "set", "-", stdin=json.dumps({"subscriptions": items})
    )
    shown = engage("--store", store, "subscription", "email", "a@x.com")
    assert json.loads(shown.stdout)["status"] == "UNSUBSCRIBED"  # item 10 came after item 2


def test_bad_groups_on_queries_are_usage_errors(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    for args in (["subscription", "email", "a@b.com", "--group", "a.b"],
                 ["can-send", "email", "a@b.com", "--group", "bad,name"],
                 ["can-send", "sms", "2135618345", "--group", "news"]):  # fmt: skip
        result = engage("--store", store, *args)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
