"""Whatever a user types, `engage` answers with an exit code of 0, 1 or 2 and at most a one-line
reason: never a traceback, never the last-resort "internal error".

Hypothesis draws argv from each verb's real options, with hostile values (huge and negative
numbers, empty and very long strings, the lone surrogates a shell passes for bytes that are not
UTF-8, any NUL-free unicode) and arbitrary stdin. Most examples run `main(argv)` in process on a
SQLite store in a temporary directory (fast); a few run the installed `engage` as a subprocess,
where stdout and stderr are real byte streams with their real encodings.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.cli.main import main
from tests.cli.test_cli import ENGAGE

Argv = list[str]
Strategy = st.SearchStrategy[Any]

# in process: a fifth of the profile's examples per verb (20 by default: the whole file in
# well under 30 s); the slow profile's 3000 make 600 per verb
PER_VERB = max(10, settings().max_examples // 5)
SUBPROCESSES = max(4, settings().max_examples // 20)

SHAPED = [
    "", " ", "-", "--", "0", "1", "-1", "+1", "007", "1.5", "1e9", "nan", "²", "١٢",
    str(2**31), str(2**63 - 1), str(2**63), str(-(2**63) - 1), "9" * 30, "9" * 5000,
    "2026-01-01T00:00:00Z", "2026-01-01", "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00", "yesterday", "email", "EMAIL", "sms", "whatsapp", "a@b.co",
    "+15551234567", "news", "News Letter", " padded ", "a/b\\c", "x" * 4097, "x" * 100_000,
    "00000000-0000-0000-0000-000000000000", "{12345678-1234-5678-1234-567812345678}",
    "jsonl", "webhook", "outbox", "status", "funnel", "subscriptions", "twilio", "meta",
    "sqlite:///other.db", "memory://", "https://example.com/hook?token=t",
    "Content-Type: application/json", "X-Twilio-Signature: abc", "Name:", ":value",
    "\u202e", "é", "\U0001d518\U0001d52b", "\ufeff", "\n", "a\nb",
]  # fmt: skip
unicode = st.text(st.characters(codec="utf-8", blacklist_characters="\0"))
surrogates = st.text(st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1)
hostile: Strategy = st.one_of(
    st.sampled_from(SHAPED),
    unicode,
    st.tuples(unicode, surrogates, unicode).map("".join),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def mostly(good: Strategy) -> Strategy:
    """A good value three times in four, else a hostile one: enough good ones get past the
    checks to reach the store and the core."""
    return st.integers(0, 3).flatmap(lambda n: hostile if n == 3 else good)


def one_of(*values: str) -> Strategy:
    return mostly(st.sampled_from(values))


def numbers(low: int, high: int) -> Strategy:
    return mostly(st.integers(low, high).map(str))


OBSERVATION = {
    "channel": "sms", "provider": "twilio", "provider_message_id": "SM1", "status": "delivered",
    "occurred_at": "2026-01-01T00:00:02Z", "event_id": "e1",
}  # fmt: skip
BODIES = [
    orjson.dumps(OBSERVATION) + b"\n" + orjson.dumps({**OBSERVATION, "status": 7}),
    orjson.dumps({"subscriptions": [{"key": "a@b.co", "type": "EMAIL", "status": "SUBSCRIBED",
                                     "groups": [{"name": "news", "status": "UNSUBSCRIBED"}]}]}),
    orjson.dumps({"type": "identify", "messageId": "m1", "context": {"messaging_subscriptions": [
        {"key": "+15551234567", "type": "SMS", "status": "UNSUBSCRIBED"}]}}),
    b"id,type,subscription_status,subscription_groups\na@b.co,EMAIL,SUBSCRIBED,news\n,SMS,,\n",
    b"MessageSid=SM1&MessageStatus=delivered&To=%2B15551234567",
    b'[{"email": "a@b.co", "event": "open", "sg_message_id": "x", "timestamp": 1}]',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": []}]}',
    b"\xef\xbb\xbf\xff\xfe\x00not text",
]  # fmt: skip
data: Strategy = st.one_of(st.sampled_from(BODIES), st.binary(max_size=2000))


def flags(options: Mapping[str, Strategy | None]) -> Strategy:
    """Some of the options, in any order: a value drawn for each, or none for a flag."""
    if not options:
        return st.just([])

    @st.composite
    def draw(draw_: Callable[[Strategy], Any]) -> Argv:
        chosen = draw_(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=4))
        argv: Argv = []
        for option in chosen:
            value = options[option]
            argv += [option] if value is None else [option, draw_(value)]
        return argv

    return draw()


def verb(
    words: list[str], positionals: list[Strategy], options: Mapping[str, Strategy | None]
) -> Strategy:
    """The verb's words, its positionals (sometimes fewer or more), its options shuffled in."""

    @st.composite
    def draw(draw_: Callable[[Strategy], Any]) -> Argv:
        given_ = [draw_(p) for p in positionals]
        if draw_(st.integers(0, 9)) == 9:
            kept = given_[: draw_(st.integers(0, len(given_)))]
            given_ = kept + draw_(st.lists(hostile, max_size=2))
        extra = draw_(flags(options))
        if draw_(st.integers(0, 19)) == 19:
            extra.append(draw_(st.sampled_from(["--nope", "--help", "-h", "--store", "-"])))
        return [*words, *given_, *extra]

    return draw()


FILE = one_of("-", "input", "missing.jsonl", ".", "")  # "input" holds the drawn bytes
CHANNEL = one_of("email", "EMAIL", "sms", "whatsapp")
KEY = one_of("a@b.co", "+15551234567", "A@B.CO")
CONFIG = {"--config": one_of("engage.toml", "missing.toml", "input")}
VERBS: dict[str, Strategy] = {
    "observe": verb(["observe"], [FILE], {"--batch-size": numbers(1, 3)}),
    "message": verb(["message"], [], {
        "--id": one_of("00000000-0000-0000-0000-000000000000", "not-a-uuid"),
        "--provider-message-id": one_of("SM1", "x"), "--channel": CHANNEL,
        "--provider": one_of("twilio", "sendgrid", "nobody"),
    }),
    "diagram": verb(["diagram"], [CHANNEL], {}),
    "subscriptions import": verb(["subscriptions", "import"], [FILE],
                                 {"--errors": one_of("errors.csv", "input", "missing/e.csv")}),
    "subscriptions set": verb(["subscriptions", "set"], [FILE], {"--request-id": one_of("r1")}),
    "subscriptions identify": verb(["subscriptions", "identify"], [FILE], {}),
    "subscription": verb(["subscription"], [CHANNEL, KEY], {
        "--group": one_of("news", "News"), "--as-of": one_of("2026-01-01T00:00:00Z"),
        "--history": None,
    }),
    "can-send": verb(["can-send"], [CHANNEL, KEY],
                     {"--group": one_of("news"), "--transactional": None}),
    "links": verb(["links"], [CHANNEL, KEY], {
        "--group": one_of("news", "News"), "--expires": one_of("30d", "12h", "0d", "x"),
        "--message-id": one_of("m1"), "--confirm": None,
    }),
    "proof": verb(["proof"], [CHANNEL, KEY], {
        "--as-of": one_of("2026-01-01T00:00:00Z", "soon"), "--format": one_of("json", "html"),
    }),
    "suppression show": verb(["suppression", "show"], [CHANNEL, KEY], {}),
    "suppression lift": verb(["suppression", "lift"], [CHANNEL, KEY], {
        "--reason": one_of("fixed", ""), "--operator": one_of("ops"),
    }),
    "policies rederive": verb(["policies", "rederive"], [], {}),
    "ingest": verb(["ingest"], [one_of("twilio", "sendgrid", "meta"), FILE], {
        "--header": one_of("Content-Type: application/x-www-form-urlencoded",
                           "X-Twilio-Signature: abc"),
        "--url": one_of("https://engage.example.com/webhooks/twilio"), "--no-verify": None,
    }),
    "quarantine list": verb(["quarantine", "list"], [], {"--all": None}),
    "quarantine retry": verb(["quarantine", "retry"], [], {"--no-verify": None}),
    "events": verb(["events"], [], {"--since": numbers(0, 5), "--limit": numbers(1, 5)}),
    "rebuild": verb(["rebuild"], [], {"--all": None, "outbox": None}),
    "digest": verb(["digest"], [one_of("outbox", "status", "funnel")], {}),
    # one-off runs only: --follow keeps going until it is signalled
    "project": verb(["project"], [one_of("outbox", "status", "funnel")], {}),
    "deliver": verb(["deliver"], [], {"--destination": one_of("jsonl", "webhook"),
                                      "--once": None, **CONFIG}),
    "replay": verb(["replay"], [st.just("--destination"), one_of("jsonl"), st.just("--from"),
                                one_of("1", "0", "2026-01-01T00:00:00Z")], CONFIG),
    "dead-letters list": verb(["dead-letters", "list"], [],
                              {"--destination": one_of("jsonl"), "--all": None}),
    "dead-letters redrive": verb(["dead-letters", "redrive"], [numbers(1, 3)],
                                 {"--destination": one_of("jsonl"), **CONFIG}),
    # small counts only (a valid big one is slow, not wrong), given nearly always (300 if not)
    "demo": verb(["demo"], [st.just("--messages"),
                            one_of("1", "2", "0", "-1", "1000001", "9" * 30, "", "x")],
                 {"--seed": numbers(-(2**63), 2**63)}),
    # small counts only, as `demo`; --via http without a server refused or unreachable
    "simulate": verb(["simulate"], [st.just("--messages"), one_of("1", "3", "0", "-1", "x")], {
        "--seed": numbers(-1, 2**63), "--profile": one_of("default", "hostile", "input", "none"),
        "--via": one_of("direct", "http", "smoke"), "--url": one_of("http://127.0.0.1:9"),
        "--out": one_of("out", "input", ""), "--json": None,
    }),
}  # fmt: skip


def refused_by_argparse(strategy: Strategy) -> Strategy:
    """`strategy`'s argv with a value argparse itself refuses appended: the verb stops at
    usage (exit 2), or earlier at a drawn `--help` (exit 0), and its handler never runs."""
    never = st.one_of(
        st.tuples(st.just("--port"), st.one_of(st.integers(65536, 2**70).map(str),
                                               st.sampled_from(["", "x", "1.5", "-1", "²"]))),
        st.tuples(st.just("--workers"), st.sampled_from(["0", "65", "", "two"])),
        st.tuples(st.just("--max-body-bytes"), st.sampled_from(["0", str(2**30 + 1), "1e6"])),
    )  # fmt: skip
    return st.tuples(strategy, never).map(lambda drawn: [*drawn[0], *drawn[1]])


# `serve` blocks until it is signalled: its handler must never run here (its start, its one
# line for a port in use and its usage errors are tested on real processes, tests/web/
# test_serve.py). So every drawn argv of it ends with a value argparse refuses, whatever
# hostile values come before: what is fuzzed is that no option value traces while parsed.
VERBS["serve"] = refused_by_argparse(verb(["serve"], [], {
    "--host": one_of("127.0.0.1", "::1", "0.0.0.0"), "--port": numbers(0, 65535),
    "--workers": numbers(1, 4), "--public-url": one_of("https://engage.example.com"),
    "--forwarded-allow-ips": one_of("10.0.0.0/8", "*"), "--max-body-bytes": numbers(1, 10**6),
    "--no-deliver": None,
}))  # fmt: skip
STORES = one_of("sqlite:///engage.db", "memory://", "sqlite://host/x.db", "sqlite:///no/dir.db",
                "postgresql://u:p@/db", "mysql://x", "")  # fmt: skip


@st.composite
def invocations(draw: Callable[[Strategy], Any], name: str) -> tuple[Argv, bytes, bytes]:
    """argv (with `--store` first, usually the good one), stdin, and the bytes of `input`."""
    store = draw(STORES) if draw(st.integers(0, 4)) == 4 else "sqlite:///engage.db"
    return ["--store", store, *draw(VERBS[name])], draw(data), draw(data)


def test_every_verb_is_fuzzed() -> None:
    """A verb added to `engage` without a strategy here would go unfuzzed."""
    from adapters.cli.main import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    listed: set[str] = set()
    for command, sub in action.choices.items():  # type: ignore[union-attr]
        nested = [a for a in sub._actions if a.dest == "verb"]
        listed |= {f"{command} {v}" for v in nested[0].choices} if nested else {command}
    assert listed == set(VERBS)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory of one verb's examples: the store and the files live there
    (relative paths drawn resolve into it), and no ENGAGE_* setting of the caller's leaks in."""
    (tmp_path / "engage.toml").write_text('[destinations.jsonl]\ntype = "jsonl"\n')
    for name in [n for n in os.environ if n.startswith("ENGAGE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_in_process(argv: Argv, stdin: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:  # argparse: --help, and usage errors
                code = 0 if exit_.code is None else exit_.code if isinstance(exit_.code, int) else 2
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def check(code: int, stderr: str, argv: Argv) -> None:
    assert code in {0, 1, 2}, (code, argv, stderr[-2000:])
    assert "Traceback" not in stderr, (argv, stderr[-2000:])
    # the guard is a last resort (its line starts so; a drawn argument may echo the words)
    assert "engage: internal error:" not in stderr, (argv, stderr[-2000:])


@pytest.mark.parametrize("name", sorted(VERBS))
def test_no_argv_makes_a_traceback(name: str, workdir: Path) -> None:
    @settings(
        max_examples=PER_VERB,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(invocations(name))
    def run(drawn: tuple[Argv, bytes, bytes]) -> None:
        argv, stdin, contents = drawn
        (workdir / "input").write_bytes(contents)
        code, _, stderr = run_in_process(argv, stdin)
        event(f"exit {code}")  # --hypothesis-show-statistics: how many got past the checks
        check(code, stderr, argv)

    run()


def test_no_argv_makes_a_traceback_in_a_real_process(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}

    @settings(
        max_examples=SUBPROCESSES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.sampled_from(sorted(VERBS)).flatmap(invocations))
    def run(drawn: tuple[Argv, bytes, bytes]) -> None:
        argv, stdin, contents = drawn
        (tmp_path / "input").write_bytes(contents)
        completed = subprocess.run(
            [ENGAGE, *argv], input=stdin, capture_output=True, cwd=tmp_path, env=environment,
            timeout=120, check=False,
        )  # fmt: skip
        check(completed.returncode, completed.stderr.decode("utf-8", "replace"), argv)

    run()


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["can-send", "email", "a@b.co", "--group", ""], "argument --group"),
        (["events", "--since", "99999999999999999999999"], "argument --since"),
        (["replay", "--destination", "jsonl", "--from", "9" * 26], "argument --from"),
        (["dead-letters", "redrive", str(2**63)], "argument ID"),
        (["deliver", "--config", "x" * 5000], "settings file"),
    ],
)
def test_values_that_once_traced_are_one_line_usage_errors(
    argv: Argv, named: str, tmp_path: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    completed = subprocess.run(
        [ENGAGE, "--store", f"sqlite:///{tmp_path / 'engage.db'}", *argv], capture_output=True,
        text=True, env=environment, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    reason = completed.stderr.splitlines()[-1]
    assert reason.startswith("engage"), completed.stderr
    assert named in reason, completed.stderr
    assert len(reason) < 400  # a 5000-character value is not echoed whole


def test_an_undecodable_path_is_printed_escaped_not_an_internal_error(workdir: Path) -> None:
    """A path the shell gave as bytes that are no UTF-8 (Python keeps them as lone surrogates)
    still gets the command's JSON answer, the characters escaped: found by the fuzz above."""
    code, stdout, stderr = run_in_process(
        ["--store", "sqlite:///engage.db", "simulate", "--messages", "1", "--json",
         "--out", "\udc80"], b"")  # fmt: skip
    assert code == 0, stderr
    assert orjson.loads(stdout)["messages"] == 1
    assert "\\udc80" in stdout
