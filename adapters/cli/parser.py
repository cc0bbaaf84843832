"""The `engage` argument parser: every verb's arguments and help text, and nothing else.

`engage --help` builds this whole parser, so it is made of light parts only: argparse, the
argument types of `arguments` (which import the core inside the validators that need it) and
help text. Each verb names its handler as "module:function"; `main` imports that module when
the verb runs, so a verb pays for its own imports and no other verb's (`docs/benchmarks.md`,
"CLI start").

`--store` and `--pretty` are accepted before the verb and after it: every verb's parser has
them too, with a suppressed default, so one given after the verb wins and one not given there
leaves the top-level value alone.
"""

from __future__ import annotations

import argparse
from typing import Any

from adapters.cli import (
    arguments,
    parser_consent,
    parser_links,
    parser_pipeline,
    parser_proof,
    parser_serve,
    parser_simulate,
    parser_suppression,
)
from adapters.cli.verbs import (
    CHANNELS,
    EXIT_CODES,
    PRETTY_HELP,
    STORE_HELP,
    Verbs,
    common_options,
    installed_version,
)

DEMO_MOST = 1_000_000  # simulated messages: more is a benchmark's job (benchmarks/), not a demo's


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:  # fmt: skip
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:  # fmt: skip
        print(f"engage {installed_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engage",
        description="Follow SMS, email and WhatsApp messages through their lifecycles.",
        epilog=EXIT_CODES + "\n`engage COMMAND --help` says what each command prints.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the installed version, exit")
    parser.add_argument("--store", metavar="URL", default=None, help=STORE_HELP)
    parser.add_argument("--pretty", action="store_true", default=False, help=PRETTY_HELP)
    verbs = Verbs(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"),
                  common_options())  # fmt: skip
    _core_verbs(verbs)
    parser_consent.add_parsers(verbs)
    parser_pipeline.add_parsers(verbs)
    parser_serve.add_parsers(verbs)
    parser_simulate.add_parsers(verbs)
    parser_links.add_parsers(verbs)
    parser_proof.add_parsers(verbs)
    parser_suppression.add_parsers(verbs)
    return parser


def _core_verbs(verbs: Verbs) -> None:
    observe = verbs.add(
        "observe", "apply provider-neutral observations (JSON Lines) to messages",
        "prints one line of counts, which add up to `received`:\n"
        '  {"received": N, "applied": N, "unchanged": N, "duplicates": N, "late": N,\n'
        '   "conflicts": N, "partial": N, "rejected": N, "quarantined": N}\n'
        "each rejected line is named on stderr with its reason.\n\n"
        "exit codes: 0 done; 1 every line rejected, or the store failed part-way (the counts\n"
        "printed say what was saved); 2 usage error.",
        "adapters.cli.commands:observe",
    )  # fmt: skip
    observe.add_argument(
        "file", metavar="FILE|-", type=arguments.path,
        help="JSON Lines file of sends and provider reports, or - for stdin",
    )  # fmt: skip
    observe.add_argument(
        "--batch-size", type=arguments.positive, default=1000,
        help="inputs saved per transaction (default 1000)",
    )  # fmt: skip

    message = verbs.add(
        "message", "show one message: status, history, engagement",
        "prints one line, the message as a JSON object:\n"
        '  {"message_id", "channel", "provider", "provider_message_id", "status", "version",\n'
        '   "send": {to, user_id, campaign_id, …} | null, "engagement": {kind: {count,\n'
        '   first_at, last_at}}, "history": [{kind, status, occurred_at, recorded_at, …}]}\n\n'
        "exit codes: 0 found; 1 no such message (or the store cannot be read); 2 usage error.",
        "adapters.cli.commands:message",
    )  # fmt: skip
    which = message.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--id", dest="message_id", metavar="UUID", type=arguments.text, help="Engage's message id"
    )
    which.add_argument(
        "--provider-message-id", metavar="ID", type=arguments.name,
        help="the provider's message id (needs --channel)",
    )  # fmt: skip
    message.add_argument("--channel", choices=CHANNELS, help="with --provider-message-id")
    message.add_argument(
        "--provider", type=arguments.name,
        help="with --provider-message-id (default: the channel's usual providers)",
    )  # fmt: skip
    _drawing_and_demo_verbs(verbs)


def _drawing_and_demo_verbs(verbs: Verbs) -> None:
    """`diagram` and `demo`: the verbs that need no store of the user's."""
    diagram = verbs.add(
        "diagram", "print a lifecycle as a Mermaid state diagram",
        "prints Mermaid text (stateDiagram-v2), not JSON; --pretty changes nothing.\n\n"
        "exit codes: 0 printed; 2 usage error (an unknown channel).",
        "adapters.cli.drawing:diagram",
    )  # fmt: skip
    diagram.add_argument("channel", choices=CHANNELS, help="the channel whose lifecycle to draw")

    demo = verbs.add(
        "demo", "drive simulated traffic through the core and summarise",
        "prints a summary for a person to read (not JSON): what the inputs did, each\n"
        "channel's statuses, one message's history; the events published so far.\n\n"
        "exit codes: 0 done; 1 the store cannot be used; 2 usage error.",
        "adapters.cli.commands:demo",
    )  # fmt: skip
    demo.add_argument(
        "--messages", type=arguments.bounded(1, DEMO_MOST), default=300,
        help=f"messages to simulate (300; at most {DEMO_MOST:,})",
    )  # fmt: skip
    demo.add_argument("--seed", type=arguments.seed, default=2026, help="random seed (2026)")
