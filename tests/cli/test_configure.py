"""Every way a store is opened (`open_application`: the verbs, the service) runs by the same
settings from the environment: double opt-in makes an operator's SUBSCRIBED PENDING, the
suppression policy and the consent keywords apply, and a setting that cannot be used stops a
verb with its variable named before the store is touched."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from adapters.cli.main import main
from adapters.stores import open_application
from engage_core.channels import Channel


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_double_opt_in_from_the_environment_makes_a_csv_subscribe_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    monkeypatch.setenv("ENGAGE_DOUBLE_OPT_IN", "email")
    monkeypatch.setenv("ENGAGE_CONFIRMATION_HOURS", "24")
    monkeypatch.setenv("ENGAGE_SOFT_BOUNCE_LIMIT", "5")
    body = tmp_path / "set.json"
    body.write_bytes(orjson.dumps({"subscriptions": [
        {"key": "ada@example.com", "type": "EMAIL", "status": "subscribed"},
        {"key": "+14155550100", "type": "SMS", "status": "subscribed"}]}))  # fmt: skip
    code, printed, _ = _run("--store", store, "subscriptions", "set", str(body))
    assert code == 0, printed
    answered = orjson.loads(printed)["successes"]
    assert [s.get("pending_confirmation") for s in answered] == [True, None]
    code, printed, _ = _run("--store", store, "subscription", "email", "ada@example.com")
    assert orjson.loads(printed)["status"] == "PENDING"
    code, printed, _ = _run("--store", store, "subscription", "sms", "+14155550100")
    assert orjson.loads(printed)["status"] == "SUBSCRIBED"
    app = open_application(store)
    try:
        assert app.consent_settings.confirm == frozenset({Channel.EMAIL})
        assert app.consent_settings.confirmation_window == timedelta(hours=24)
        assert app.suppression_policy.soft_bounce_limit == 5
    finally:
        app.close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ENGAGE_DOUBLE_OPT_IN", "fax"), ("ENGAGE_CONFIRMATION_HOURS", "-1"),
     ("ENGAGE_SOFT_BOUNCE_LIMIT", "many"), ("ENGAGE_CLOCK_SKEW_SECONDS", "x")],
)  # fmt: skip
def test_a_setting_that_cannot_be_used_is_named_and_nothing_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    store = tmp_path / "e.db"
    code, _, error = _run("--store", f"sqlite:///{store}", "subscription", "email",
                                "ada@example.com")  # fmt: skip
    assert code == 2
    assert variable in error
    assert "Traceback" not in error
    assert not store.exists()
    with pytest.raises(ValueError, match=variable):
        open_application(f"sqlite:///{store}")


def test_a_confirmation_link_lives_as_long_as_the_pending_it_confirms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    monkeypatch.setenv("ENGAGE_LINK_SECRET", "a-link-secret-of-twenty")
    monkeypatch.setenv("ENGAGE_PUBLIC_URL", "https://engage.example.com")
    monkeypatch.setenv("ENGAGE_CONFIRMATION_HOURS", "48")
    before = datetime.now(UTC)
    code, printed, _ = _run("links", "email", "ada@example.com", "--confirm")
    assert code == 0
    expires = datetime.fromisoformat(orjson.loads(printed)["expires_at"])
    assert timedelta(hours=47) < expires - before <= timedelta(hours=48, seconds=1)
    app = open_application("memory://")
    try:
        assert app.links is not None
        assert app.links.confirm_expires_in == timedelta(hours=48)
    finally:
        app.close()
