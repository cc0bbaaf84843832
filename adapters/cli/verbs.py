"""How an `engage` verb is declared: its one-line purpose, its epilog (what it prints, its exit
codes), the options every verb shares, and the handler `main` imports when it runs.

Light on purpose (argparse, the store URL module, and importlib.metadata read on `--version`
only): the whole parser is built for every run, `engage --help` included.
"""

from __future__ import annotations

import argparse
from typing import Any

from adapters.stores import STORE_ENV_VAR

CHANNELS = ("sms", "email", "whatsapp")  # engage_core.Channel's values (a test keeps them equal)
DISTRIBUTION = "engage-core"  # the name pyproject.toml installs the package under
STORE_HELP = (
    "event store: sqlite:///path.db, postgresql://…, memory:// "
    f"(default: ${STORE_ENV_VAR} or sqlite:///engage.db); before or after the command"
)
PRETTY_HELP = "indent the JSON printed (default: compact, one value a line)"
EXIT_CODES = (
    "exit codes: 0 success; 1 nothing could be done (missing file, unreadable store, every\n"
    "input rejected, not found); 2 usage error; 130 interrupted."
)


def installed_version() -> str:
    """The installed distribution's version; "0+unknown" in a source tree never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def common_options() -> argparse.ArgumentParser:
    """`--store` and `--pretty` as every verb accepts them after its name. Their defaults are
    suppressed, so a verb's parser only sets them when they are given after the verb."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="URL", default=argparse.SUPPRESS, help=STORE_HELP)
    common.add_argument("--pretty", action="store_true", default=argparse.SUPPRESS,
                        help=PRETTY_HELP)  # fmt: skip
    return common


class Verbs:
    """Adds verbs to a subparsers action, each with the common options, its description and
    epilog kept as written (RawDescriptionHelpFormatter), and its handler's name."""

    def __init__(self, sub: Any, common: argparse.ArgumentParser) -> None:
        self.sub = sub
        self.common = common

    def add(
        self, name: str, summary: str, epilog: str, handler: str | None = None,
        parents: tuple[argparse.ArgumentParser, ...] = (), description: str | None = None,
    ) -> argparse.ArgumentParser:  # fmt: skip
        """`summary` is the one-line purpose (in `engage --help` and atop the verb's own);
        `epilog` says what it prints and its exit codes; `handler` is "module:function"."""
        verb: argparse.ArgumentParser = self.sub.add_parser(
            name,
            help=summary,
            description=summary + (f"\n\n{description}" if description else ""),
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[self.common, *parents],
        )
        if handler is not None:
            verb.set_defaults(handler=handler)
        return verb

    def nested(self, verb: argparse.ArgumentParser) -> Verbs:
        """The verbs under a verb (`subscriptions import`, `quarantine list`, …)."""
        return Verbs(verb.add_subparsers(dest="verb", required=True, metavar="VERB"), self.common)
