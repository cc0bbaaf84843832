"""The `engage` command's shape: a light start (no verb's heavy imports before it runs), help
that says what each verb prints and how it exits, `--version`, `--store` and `--pretty` before
or after the verb, compact JSON by default, progress bars on a terminal only."""

from __future__ import annotations

import argparse
import json
import os
import pty
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from adapters.cli.parser import build_parser

ENGAGE = str(Path(sys.executable).with_name("engage"))
REPO = Path(__file__).resolve().parents[2]
# what the verbs' handlers import; none of it may load before a verb runs
HEAVY = ("eventsourcing", "phonenumbers", "engage_core", "engage_core.application", "rich",
         "transitions", "adapters.views", "adapters.providers", "adapters.stores.sqlite",
         "adapters.cli.commands", "orjson")  # fmt: skip


def engage(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ENGAGE, *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


def every_verb(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[
    tuple[str, ...], argparse.ArgumentParser
]:  # fmt: skip
    """Each verb's own parser, by its words (`("subscriptions", "import")`), leaves only."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= every_verb(sub, (*path, name)) or {(*path, name): sub}
    return found


VERBS = sorted(every_verb(build_parser()))


def test_help_and_every_verbs_help_import_nothing_heavy() -> None:
    """`engage --help` (and each verb's) is argparse and help text: measured by what a fresh
    interpreter has imported after printing all of them."""
    script = (
        "import contextlib, io, json, sys\n"
        "from adapters.cli.main import main\n"
        f"for words in {[list(v) for v in VERBS]!r} + [[]]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main([*words, '--help'])\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True, cwd=REPO)  # fmt: skip
    assert json.loads(done.stdout) == []


def test_a_verb_imports_its_own_modules_when_it_runs() -> None:
    script = (
        "import sys\n"
        "from adapters.cli.main import main\n"
        "main(['diagram', 'sms'])\n"
        "print('adapters.cli.commands' in sys.modules, 'adapters.views' in sys.modules,"
        " 'engage_core.lifecycles.diagram' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True, cwd=REPO)  # fmt: skip
    assert done.stdout.startswith("---\ntitle: sms message lifecycle")
    assert done.stderr.split() == ["False", "False", "True"]


@pytest.mark.parametrize("words", VERBS, ids=" ".join)
def test_every_verb_says_its_purpose_arguments_output_and_exit_codes(
    words: tuple[str, ...],
) -> None:
    verb = every_verb(build_parser())[words]
    assert verb.description
    assert "\n" not in verb.description.split("\n\n")[0]
    assert verb.epilog
    assert "exit codes: 0 " in verb.epilog
    assert "2 usage error" in verb.epilog
    if words != ("demo",) and words != ("diagram",):
        assert "prints one line" in verb.epilog
    unexplained = [a.dest for a in verb._actions if not a.help]
    assert unexplained == []
    shown = engage(*words, "--help")
    assert shown.returncode == 0
    assert "exit codes:" in shown.stdout
    assert "--store URL" in shown.stdout


def test_the_parsers_literal_names_are_the_cores() -> None:
    """The parser names channels, providers and views without importing their modules."""
    from adapters.cli.parser_pipeline import PROVIDERS, VIEWS
    from adapters.cli.verbs import CHANNELS
    from adapters.providers.registry import PROVIDERS as REGISTERED
    from adapters.views import VIEW_CLASSES
    from engage_core import Channel

    assert tuple(c.value for c in Channel) == CHANNELS
    assert tuple(REGISTERED) == PROVIDERS
    assert tuple(VIEW_CLASSES) == VIEWS


def test_version_is_the_installed_distributions() -> None:
    done = engage("--version")
    assert (done.returncode, done.stdout) == (0, f"engage {version('engage-core')}\n")


def test_version_from_a_source_tree_never_installed(tmp_path: Path) -> None:
    """No site-packages (`-S`) and no egg-info beside the code: nothing says what version."""
    shutil.copytree(REPO / "adapters", tmp_path / "adapters",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-S", "-m", "adapters.cli.main", "--version"], capture_output=True,
        text=True, timeout=60, check=False, cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "engage 0+unknown\n", "")


def _observed(store: str, *where: str) -> None:
    report = {"channel": "sms", "provider": "twilio", "provider_message_id": "SM1",
              "status": "delivered", "occurred_at": "2026-01-01T12:00:00Z"}  # fmt: skip
    done = engage(*where, "observe", "-", *([] if where else ["--store", store]),
                  stdin=json.dumps(report) + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_store_after_the_verb(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'after.db'}"
    _observed(store)
    found = engage("message", "--channel", "sms", "--provider-message-id", "SM1",
                   "--store", store)  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["status"] == "delivered"
    assert (tmp_path / "after.db").exists()


def test_store_after_the_verb_wins_over_the_one_before(tmp_path: Path) -> None:
    before, after = f"sqlite:///{tmp_path / 'before.db'}", f"sqlite:///{tmp_path / 'after.db'}"
    _observed(after)
    found = engage("--store", before, "message", "--channel", "sms",
                   "--provider-message-id", "SM1", "--store", after)  # fmt: skip
    assert found.returncode == 0, found.stderr
    missing = engage("--store", after, "message", "--channel", "sms",
                     "--provider-message-id", "SM1", "--store", before)  # fmt: skip
    assert missing.returncode == 1
    assert "no message" in missing.stderr


def test_store_before_the_verb_still_works(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'before.db'}"
    _observed(store, "--store", store)
    done = engage("--store", store, "digest", "message_status")
    assert json.loads(done.stdout)["message_status"]["rows"] == 1


def test_json_is_compact_by_default_and_indented_with_pretty(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    _observed(store)
    words = ["message", "--channel", "sms", "--provider-message-id", "SM1"]
    compact = engage(*words, "--store", store)
    before = engage("--pretty", "--store", store, *words)
    after = engage(*words, "--store", store, "--pretty")
    assert compact.stdout.count("\n") == 1  # one line: the whole message
    assert before.stdout == after.stdout
    assert before.stdout.count("\n") > 10
    assert before.stdout.startswith('{\n  "message_id"')
    assert json.loads(before.stdout) == json.loads(compact.stdout)


def test_subscription_is_compact_too(tmp_path: Path) -> None:
    done = engage("subscription", "email", "a@example.com", "--store",
                  f"sqlite:///{tmp_path / 'e.db'}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    assert json.loads(done.stdout)["status"] is None


def _on_a_terminal(*args: str) -> tuple[int, str, bytes]:
    """`engage ARGS` with stderr a pseudo-terminal (stdout a pipe): exit code, stdout, and
    what was drawn on the terminal."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    process = subprocess.Popen([ENGAGE, *args], stdout=subprocess.PIPE, stderr=terminal,
                               env=env, text=True)  # fmt: skip
    os.close(terminal)
    drawn = b""
    while True:
        try:
            piece = os.read(controller, 4096)
        except OSError:  # the terminal's other end closed: the process is done with it
            break
        if not piece:
            break
        drawn += piece
    out = process.stdout.read() if process.stdout else ""
    os.close(controller)
    return process.wait(timeout=60), out, drawn


@pytest.mark.parametrize("verb", [["digest"], ["events", "--limit", "1"]])
def test_catching_up_shows_progress_on_a_terminal_only(tmp_path: Path, verb: list[str]) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    assert engage("--store", store, "demo", "--messages", "20").returncode == 0
    for views in tmp_path.glob("e.views.db*"):  # the views start afresh: a catch-up to do
        views.unlink()
    code, out, drawn = _on_a_terminal("--store", store, *verb)
    assert code == 0
    assert b"catching up" in drawn
    json.loads(out.splitlines()[0])  # stdout stays JSON
    piped = engage("--store", store, *verb)
    assert piped.returncode == 0
    assert piped.stderr == ""
