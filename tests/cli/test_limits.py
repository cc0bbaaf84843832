"""Size limits as a user meets them: real `engage` processes fed inputs far over their limits,
refused with the limit named, counted, held where that is the promise, and read in memory that
does not grow with the input (each child's peak RSS, measured by a small helper process of its
own, next to the peak of `engage --help` for reference)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.cli.test_cli import ENGAGE
from tests.providers.test_sendgrid import PUBLIC_KEY, sign

MIB = 1024 * 1024

# Runs `engage` as its only child and prints that child's peak RSS (KiB). The helper is a bare
# interpreter, so the child's high-water mark, which Linux carries over from before `exec`,
# starts from the helper's few MiB, not from the test process's size.
_PEAK = """
import resource, subprocess, sys
stdin, stdout, stderr, *argv = sys.argv[1:]
with open(stdin, "rb") as i, open(stdout, "wb") as o, open(stderr, "wb") as e:
    code = subprocess.run(argv, stdin=i, stdout=o, stderr=e).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    return {**clean, **(extra or {})}


def measured(
    tmp: Path, *args: str, stdin: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, subprocess.CompletedProcess[str]]:
    """`engage ARGS` with its peak RSS in MiB."""
    out, err = tmp / "stdout", tmp / "stderr"
    helper = subprocess.run(
        [sys.executable, "-c", _PEAK, str(stdin or os.devnull), str(out), str(err), ENGAGE,
         *args],
        capture_output=True, text=True, env=_env(env), timeout=60, check=True,
    )  # fmt: skip
    peak_kib, code = (int(n) for n in helper.stdout.split())
    completed = subprocess.CompletedProcess(
        args, code, out.read_text(errors="replace"), err.read_text(errors="replace")
    )
    return peak_kib // 1024, completed


def run(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    done = subprocess.run(
        [ENGAGE, *args], input=stdin, capture_output=True, env=_env(env), timeout=60, check=False
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'engage.db'}"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> int:
    """What a verb that reads nothing peaks at (MiB): the interpreter and Engage's imports
    (`--help` no longer loads them: a verb's modules are imported when it runs)."""
    peak, done = measured(tmp_path_factory.mktemp("baseline"), "--store", "memory://",
                          "quarantine", "list")  # fmt: skip
    assert done.returncode == 0
    return peak


def observation(pmid: str, **more: object) -> bytes:
    line = {"channel": "sms", "provider": "twilio", "provider_message_id": pmid,
            "status": "delivered", "occurred_at": "2026-01-01T12:00:00Z", **more}  # fmt: skip
    return orjson.dumps(line)


def test_a_100_mb_observe_line_is_rejected_unheld_in_bounded_memory(
    store: str, tmp_path: Path, baseline: int
) -> None:
    huge = observation("SM-big", details={"x": "a" * (100 * MIB)})
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(observation("SM1") + b"\n" + huge + b"\n" + observation("SM2") + b"\n")
    started = time.perf_counter()
    peak, done = measured(tmp_path, "--store", store, "observe", str(feed))
    assert time.perf_counter() - started < 10
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "received": 3, "applied": 2, "duplicates": 0, "late": 0, "conflicts": 0, "rejected": 1,
        "unchanged": 0, "partial": 0, "quarantined": 0,
    }  # fmt: skip
    assert done.stderr == (
        f"engage: rejected line 2: line is {len(huge)} bytes, over the limit of {MIB} "
        "(ENGAGE_MAX_OBSERVATION_LINE_BYTES)\n"
    )
    assert peak < min(baseline + 20, 150), (peak, baseline)  # a 100 MiB line, never held whole


def test_observe_line_and_details_limits_follow_their_settings(store: str) -> None:
    small = {"ENGAGE_MAX_OBSERVATION_LINE_BYTES": "400", "ENGAGE_MAX_DETAILS_BYTES": "50"}
    lines = [
        observation("SM1", details={"note": "x" * 40}),  # details of 51 bytes: over 50
        observation("SM2", details={"note": "x" * 30}),  # within both
        observation("SM3", details={"n": "y" * 400}),  # a line over 400
        b" " * 399 + b"\n" + b"\n",  # 399 blanks: within, skipped as blank
    ]
    done = run("--store", store, "observe", "-", stdin=b"\n".join(lines), env=small)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert (counts["received"], counts["applied"], counts["rejected"]) == (3, 1, 2)
    first, second = done.stderr.splitlines()
    assert first == (
        "engage: rejected line 1: details: 51 bytes as JSON, over the limit of 50 "
        "(ENGAGE_MAX_DETAILS_BYTES)"
    )
    assert second == (
        f"engage: rejected line 3: line is {len(lines[2])} bytes, over the limit of 400 "
        "(ENGAGE_MAX_OBSERVATION_LINE_BYTES)"
    )


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5"])
def test_a_bad_limit_setting_is_a_usage_error(store: str, value: str) -> None:
    done = run("--store", store, "observe", "-", stdin=observation("SM1"),
               env={"ENGAGE_MAX_OBSERVATION_LINE_BYTES": value})  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith(
        "engage: error: ENGAGE_MAX_OBSERVATION_LINE_BYTES: a whole number"
    )
    assert "Traceback" not in done.stderr


def _sendgrid_batch(path: Path, events: int) -> None:
    """A SendGrid batch of `events` delivered events, written without holding them as objects."""
    with path.open("wb") as out:
        out.write(b"[")
        out.write(b",".join(
            b'{"email":"user%d@example.com","timestamp":%d,"event":"delivered",'
            b'"sg_event_id":"ev-%08d","sg_message_id":"m%08d.filter0001.16648.5515E0B88.0"}'
            % (n, 1767268800 + n, n, n)
            for n in range(events)
        ))  # fmt: skip
        out.write(b"]")


def test_a_27_mb_sendgrid_body_is_refused_and_held_as_a_prefix_in_bounded_memory(
    store: str, tmp_path: Path, baseline: int
) -> None:
    body = tmp_path / "batch.json"
    _sendgrid_batch(body, 200_000)
    raw = body.read_bytes()
    assert len(raw) > 25 * MIB
    stamp = str(int(time.time()))
    signed = ["--header", f"X-Twilio-Email-Event-Webhook-Signature: {sign(raw, stamp)}",
              "--header", f"X-Twilio-Email-Event-Webhook-Timestamp: {stamp}"]  # fmt: skip
    env = {"ENGAGE_SENDGRID_PUBLIC_KEY": PUBLIC_KEY}
    del raw
    peak, done = measured(tmp_path, "--store", store, "ingest", "sendgrid", "-", *signed,
                          stdin=body, env=env)  # fmt: skip
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["received"], report["rejected"], report["applied"]) == (1, 1, 0)
    size = body.stat().st_size
    assert f"refused: body over the limit of {MIB} bytes (ENGAGE_MAX_PROVIDER_BODY_BYTES): " \
           f"{size} bytes" in done.stderr  # fmt: skip
    assert peak < min(baseline + 20, 150), (peak, baseline)  # 27 MB posted, never held whole

    (entry,) = [json.loads(line) for line in run("--store", store, "quarantine", "list")
                .stdout.splitlines()]  # fmt: skip
    digest = hashlib.sha256(body.read_bytes()).hexdigest()
    assert (entry["id"], entry["refused"], entry["unauthenticated"]) == (report["held"], True, True)
    assert (entry["body_size"], entry["body_sha256"], entry["truncated"]) == (size, digest, True)
    assert entry["body"].encode() == body.read_bytes()[:4096]
    assert "X-Twilio-Email-Event-Webhook-Signature" in entry["headers"]

    retried = run("--store", store, "quarantine", "retry", entry["id"], env=env)
    assert retried.returncode == 1
    assert "only the first 4096 of its" in retried.stderr
    assert "cannot be retried" in retried.stderr
    assert "Traceback" not in retried.stderr
    everything = run("--store", store, "quarantine", "retry", env=env)
    assert everything.returncode == 0  # nothing retryable is held: said, not failed
    assert "cannot be retried" in everything.stderr
    assert everything.stdout == ""


def test_an_unsigned_body_is_held_as_its_first_bytes(store: str, tmp_path: Path) -> None:
    body = tmp_path / "junk.json"
    _sendgrid_batch(body, 200)
    setting = {"ENGAGE_SENDGRID_PUBLIC_KEY": PUBLIC_KEY,
               "ENGAGE_MAX_UNAUTHENTICATED_BODY_PREFIX_BYTES": "100"}  # fmt: skip
    done = run("--store", store, "ingest", "sendgrid", str(body), env=setting)
    assert done.returncode == 1
    assert "signature" in done.stderr.lower()
    (entry,) = [json.loads(line) for line in run("--store", store, "quarantine", "list")
                .stdout.splitlines()]  # fmt: skip
    raw = body.read_bytes()
    assert (entry["body_size"], entry["truncated"]) == (len(raw), True)
    assert entry["body"].encode() == raw[:100]
    assert entry["body_sha256"] == hashlib.sha256(raw).hexdigest()


def test_subscriptions_set_refuses_requests_over_the_byte_and_item_limits(
    store: str, tmp_path: Path, baseline: int
) -> None:
    items = [{"key": f"user{n}@example.com", "type": "EMAIL", "status": "SUBSCRIBED"}
             for n in range(100_000)]  # fmt: skip
    request = tmp_path / "request.json"
    request.write_bytes(orjson.dumps({"subscriptions": items}))
    peak, done = measured(tmp_path, "--store", store, "subscriptions", "set", str(request))
    assert done.returncode == 1
    assert done.stderr == (
        f"engage: {request}: request over the limit of {4 * MIB} bytes "
        "(ENGAGE_MAX_API_REQUEST_BYTES); nothing was applied\n"
    )
    assert peak < min(baseline + 20, 150), (peak, baseline)

    few = orjson.dumps({"subscriptions": items[:4]})
    over = run("--store", store, "subscriptions", "set", "-", stdin=few,
               env={"ENGAGE_MAX_API_ITEMS": "3"})  # fmt: skip
    assert over.returncode == 1
    assert over.stderr == (
        "engage: -: 4 items, over the limit of 3 per request (ENGAGE_MAX_API_ITEMS); "
        "nothing was applied\n"
    )
    shown = run("--store", store, "subscription", "EMAIL", "user0@example.com")
    assert json.loads(shown.stdout)["status"] is None  # nothing was applied
    within = run("--store", store, "subscriptions", "set", "-", stdin=few,
                 env={"ENGAGE_MAX_API_ITEMS": "4"})  # fmt: skip
    assert within.returncode == 0, within.stderr
    assert len(json.loads(within.stdout)["successes"]) == 4


def test_identify_counts_the_items_of_every_call_against_the_limit(store: str) -> None:
    def call(n: int, count: int) -> bytes:
        subscriptions = [{"key": f"u{n}-{i}@example.com", "type": "EMAIL",
                          "status": "SUBSCRIBED"} for i in range(count)]  # fmt: skip
        return orjson.dumps({"type": "identify", "messageId": f"call-{n}", "userId": f"u{n}",
                             "context": {"messaging_subscriptions": subscriptions}})  # fmt: skip

    calls = b"\n".join([call(1, 2), call(2, 2)])
    over = run("--store", store, "subscriptions", "identify", "-", stdin=calls,
               env={"ENGAGE_MAX_API_ITEMS": "3"})  # fmt: skip
    assert over.returncode == 1
    assert "4 items, over the limit of 3 per request (ENGAGE_MAX_API_ITEMS)" in over.stderr
    big = run("--store", store, "subscriptions", "identify", "-", stdin=calls,
              env={"ENGAGE_MAX_API_REQUEST_BYTES": "100"})  # fmt: skip
    assert big.returncode == 1
    assert "request over the limit of 100 bytes (ENGAGE_MAX_API_REQUEST_BYTES)" in big.stderr
    within = run("--store", store, "subscriptions", "identify", "-", stdin=calls,
                 env={"ENGAGE_MAX_API_ITEMS": "4"})  # fmt: skip
    assert within.returncode == 0, within.stderr
    assert json.loads(within.stdout)["applied"] == 4


@pytest.mark.parametrize(
    ("setting", "value", "argv"),
    [
        ("ENGAGE_MAX_API_REQUEST_BYTES", "100000000000", ["subscriptions", "set", "-"]),
        ("ENGAGE_MAX_PROVIDER_BODY_BYTES", str(2**63 - 1), ["ingest", "twilio", "-"]),
        ("ENGAGE_MAX_OBSERVATION_LINE_BYTES", "9" * 23, ["observe", "-"]),
        ("ENGAGE_CSV_MAX_ROW_CHARS", str(2**63), ["subscriptions", "import", "x.csv"]),
        ("ENGAGE_MAX_API_ITEMS", "١٢", ["subscriptions", "set", "-"]),
        ("ENGAGE_VIEW_PAGE_SIZE", "0", ["demo", "--messages", "2"]),
        ("ENGAGE_VIEW_PAGE_SIZE", "²", ["events"]),
        ("ENGAGE_CLOCK_SKEW_SECONDS", "nan", ["can-send", "sms", "+12135618345"]),
    ],
)
def test_a_setting_out_of_range_is_a_usage_error_naming_it(
    store: str, tmp_path: Path, setting: str, value: str, argv: list[str]
) -> None:
    """Far too large a limit is no limit (reading allocates up to it), and digits other than
    ASCII are no number: each is refused before anything is done, naming the setting."""
    (tmp_path / "x.csv").write_text("email,email_subscription_status\n")
    done = subprocess.run(
        [ENGAGE, "--store", store, *argv], input=b"", capture_output=True, cwd=tmp_path,
        env=_env({setting: value}), timeout=60, check=False,
    )  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert setting in stderr
    assert "internal error" not in stderr
    assert "Traceback" not in stderr


def test_a_setting_may_group_its_digits() -> None:
    from engage_core.limits import Limits

    assert Limits.from_environment({"ENGAGE_MAX_API_ITEMS": "1_000"}).api_items == 1000
