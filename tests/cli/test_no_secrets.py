"""No secret Engage is given (store password, provider tokens, destination secrets and write
keys, API tokens) appears in anything it prints or writes, even when every verb that can fail
does: a store that cannot be reached, a webhook and Segment refusing us (401) or failing (500),
requests held for a wrong signature, dead letters listed and redriven.

Everything is real: `engage` subprocesses, a uvicorn receiver, Twilio's own RequestValidator
signing with a token Engage does not have; the files checked are every file the runs wrote.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from adapters.redaction import redact, redact_line, redact_values, redacted_output, remember
from tests.cli.test_cli import ENGAGE
from tests.http_receiver import Reply, running_receiver

PG_PASSWORD = "pg-Secret-7f3a9c"
ENCODED_PASSWORD = "pg%40Secret-encoded"  # as written in a URL; the decoded one is secret too
SECRETS = {
    "ENGAGE_TWILIO_AUTH_TOKEN": "twilioToken0123456789abcdef01234",
    "ENGAGE_META_APP_SECRET": "metaAppSecret-5d6e7f8091a2b3c4",
    "ENGAGE_META_VERIFY_TOKEN": "metaVerifyToken-a1b2c3",
    "ENGAGE_WEBHOOK_SECRET": "webhookSecret-q9w8e7r6",
    "ENGAGE_SEGMENT_WRITE_KEY": "segmentWriteKey-z1x2c3v4",
    "ENGAGE_POSTGRES_PASSWORD": "postgresPassword-m5n6b7",
    "ENGAGE_WRITE_KEY": "writeKey-l0k9j8h7",
    "ENGAGE_API_TOKEN": "apiToken-g6f5d4s3",
    "ENGAGE_LINK_SECRET": "linkSecret-p0o9i8u7",
}
WEBHOOK_TOKEN = "hookPathToken-y7t6r5"  # in the webhook URL's query: a capability
SQL_PASSWORD = "sqlSecret-4e3w2q1"
URL_PASSWORD = "urlPass-held-9z8x"  # in the URL a client called: never held
BEARER = "bearerSecret-3c4v5b"  # an Authorization header no provider sends: never held
UNREACHABLE = "127.0.0.1:1"  # nothing listens on port 1: connections are refused at once


def every_secret() -> list[str]:
    return [
        *SECRETS.values(), PG_PASSWORD, "pg@Secret-encoded", ENCODED_PASSWORD, WEBHOOK_TOKEN,
        SQL_PASSWORD, URL_PASSWORD, BEARER,
    ]  # fmt: skip


class Runs:
    """Every run's output, kept to be searched at the end."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.outputs: list[tuple[list[str], bytes]] = []

    def __call__(self, *args: str, stdin: bytes = b"", **env: str) -> int:
        completed = subprocess.run(
            [ENGAGE, *args], input=stdin, capture_output=True, cwd=self.cwd,
            env={**self.env, **env}, timeout=120, check=False,
        )  # fmt: skip
        self.outputs.append((list(args), completed.stdout + completed.stderr))
        assert b"Traceback" not in completed.stderr, completed.stderr.decode()
        return completed.returncode


def test_no_output_or_file_holds_a_secret(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    (tmp_path / "engage.toml").write_text("[delivery]\nmax_attempts = 1\nbase_delay = 0\n")
    with running_receiver(secret="not-the-one-we-send") as receiver:
        hook = f"{receiver.url}/hook?token={WEBHOOK_TOKEN}"
        env = {**clean, **SECRETS, "ENGAGE_WEBHOOK_URL": hook,
               "ENGAGE_SEGMENT_BASE_URL": receiver.url,
               "ENGAGE_SQL_URL": f"postgresql://u:{SQL_PASSWORD}@{UNREACHABLE}/db"
                                 "?connect_timeout=1"}  # fmt: skip
        run = Runs(tmp_path, env)

        # a store that cannot be reached, its password given in --store, in ENGAGE_STORE, and
        # percent-encoded
        postgres = f"postgresql://engage:{PG_PASSWORD}@{UNREACHABLE}/engage?connect_timeout=1"
        encoded = f"postgresql://engage:{ENCODED_PASSWORD}@{UNREACHABLE}/e?connect_timeout=1"
        for verb in (["digest"], ["events"], ["observe", "-"]):
            assert run("--store", postgres, *verb, stdin=b"{}\n") == 1
        assert run("digest", ENGAGE_STORE=postgres) == 1
        assert run("--store", encoded, "events") == 1
        assert run(f"--store={postgres.replace('1/', '99999/')}", "events") == 2  # bad port
        assert run("--store", postgres, "events", "--since", "x") == 2  # argparse's own error
        # no password in the URL: ENGAGE_POSTGRES_PASSWORD's is used (and never shown); an
        # unknown parameter is named, a password put in the query refused and not shown
        assert run("--store", f"postgresql://engage@{UNREACHABLE}/e?connect_timeout=1",
                   "digest") == 1  # fmt: skip
        assert run("--store", f"{postgres}&pool_sise=2&password={SQL_PASSWORD}", "digest") == 2

        # something to deliver
        observation = {"channel": "sms", "provider": "twilio", "provider_message_id": "SM1",
                       "status": "delivered", "occurred_at": "2026-01-01T00:00:02Z",
                       "event_id": "e1"}  # fmt: skip
        assert run("--store", store, "observe", "-", stdin=orjson.dumps(observation)) == 0

        # the webhook refuses our signature (401), Segment our write key (401), the SQL
        # table's server is not there
        receiver.reset(secret="not-the-one-we-send", write_key="not-ours-either")
        assert run("--store", store, "deliver") == 1
        assert any(r.status == 401 for r in receiver.requests)
        # then they fail (500): parked in dead letters, listed, redriven, replayed
        receiver.reset()
        receiver.script(*[Reply(500, body=f"token={WEBHOOK_TOKEN}".encode())] * 20)
        run("--store", store, "deliver")
        assert run("--store", store, "dead-letters", "list", "--all") == 0
        run("--store", store, "dead-letters", "redrive")
        run("--store", store, "replay", "--destination", "webhook", "--from", "0")
        assert receiver.requests, "the webhook was never called"

        # a Twilio callback signed with a token that is not ours: refused, held, listed
        url = f"https://engage:{URL_PASSWORD}@engage.example.com/webhooks/twilio?x=1"
        params = {"MessageSid": "SM1", "MessageStatus": "failed", "To": "+15551234567"}
        signature = RequestValidator("a-token-that-is-not-ours").compute_signature(
            url.replace(f"engage:{URL_PASSWORD}@", ""), params
        )
        assert run("--store", store, "ingest", "twilio", "-", "--url", url,
                   "--header", f"X-Twilio-Signature: {signature}",
                   "--header", f"Authorization: Bearer {BEARER}",
                   stdin=urlencode(params).encode()) == 1  # fmt: skip
        assert run("--store", store, "ingest", "meta", "-", "--header",
                   "X-Hub-Signature-256: sha256=00", stdin=b'{"object": "x"}') == 1  # fmt: skip
        assert run("--store", store, "quarantine", "list", "--all") == 0
        run("--store", store, "quarantine", "retry")

    listed = next(out for args, out in run.outputs if args[2:] == ["quarantine", "list", "--all"])
    assert b"engage.example.com" in listed  # the held request is shown, without credentials
    for args, output in run.outputs:
        for secret in every_secret():
            assert secret.encode() not in output, (secret, args, output.decode()[-1500:])
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "engage.toml"]
    assert any(p.suffix == ".db" for p in written)
    for path in written:
        content = path.read_bytes()
        for secret in every_secret():
            assert secret.encode() not in content, (secret, path)


def test_what_a_known_secret_looks_like_once_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """The masks keep what an error is about: the user, host and database of a store URL."""
    remember("rememberedSecret-1234")
    line = redact_line(
        f"cannot open store postgresql://engage:{PG_PASSWORD}@db:5432/engage?sslmode=require:\n"
        "  password=hunter22 rememberedSecret-1234"
    )
    assert line == (
        "cannot open store postgresql://engage:***@db:5432/engage?sslmode=require: password=*** ***"
    )
    with redacted_output():
        print("the token is rememberedSecret-1234")
    assert "rememberedSecret-1234" not in capsys.readouterr().out


SECRET_TEXT = st.text(st.characters(codec="utf-8", blacklist_characters="\0"))


@settings(max_examples=max(200, settings().max_examples))
@given(
    secret=SECRET_TEXT.filter(lambda s: len(s.strip()) >= 4).map(str.strip),
    others=st.lists(st.text(min_size=4, max_size=12), max_size=3),
    pieces=st.lists(st.text(max_size=8), min_size=1, max_size=4),
)
def test_a_known_secret_never_survives_redaction(
    secret: str, others: list[str], pieces: list[str]
) -> None:
    """Wherever a known secret sits in a text, and whatever it is made of (stars included),
    no redaction leaves it there: given explicitly, or read from the environment."""
    text = secret.join(pieces) + secret
    known = sorted({secret, *others}, key=len, reverse=True)
    assert secret not in redact_values(text, known)
    saved = os.environ.get("ENGAGE_API_TOKEN")
    os.environ["ENGAGE_API_TOKEN"] = secret  # not remember(): that would outlive the test
    try:
        for redacted in (redact_values(text), redact_line(text), redact(text)):
            assert secret not in redacted
    finally:
        if saved is None:
            del os.environ["ENGAGE_API_TOKEN"]
        else:
            os.environ["ENGAGE_API_TOKEN"] = saved


@pytest.mark.parametrize("password", ["Secr/et99", "Secr#et99", "Secr?et99"])
@pytest.mark.parametrize("how", ["--store", "ENGAGE_STORE"])
def test_a_password_urls_cannot_parse_is_still_hidden(
    tmp_path: Path, password: str, how: str
) -> None:
    """Base64 passwords hold `/` (and people type `#` or `?`): URL parsing then finds no
    password, and its own error message quotes part of it. Neither the password nor a piece
    of it may appear."""
    url = f"postgresql://u:{password}@127.0.0.1:1/db"
    env = {**os.environ, "ENGAGE_STORE": url} if how == "ENGAGE_STORE" else dict(os.environ)
    argv = [ENGAGE, *(["--store", url] if how == "--store" else []), "digest"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=60, check=False)  # fmt: skip
    shown = done.stdout + done.stderr
    assert done.returncode in {1, 2}
    assert "Traceback" not in shown
    for piece in (password, *password.replace("/", " ").replace("#", " ").replace("?", " ")
                  .replace(":", " ").replace("@", " ").split()):  # fmt: skip
        assert piece not in shown, (piece, shown)
