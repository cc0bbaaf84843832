"""`engage`: observe provider reports, inspect messages, draw lifecycles, run the demo.

Exit codes: 0 success; 1 nothing could be done (missing file, unreadable store, every input
rejected, message not found); 2 usage errors (argparse's own, every option's value checked by
`arguments`, and a bad store URL). Bad input gets a one-line reason on stderr, never a
traceback; what is printed never holds a secret (`adapters.redaction`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from adapters.cli import arguments, commands, consent, destinations, ingest, views
from adapters.redaction import redact_line, redacted_output, remember_url_password
from adapters.stores import STORE_ENV_VAR, StoreURLError, store_url_from_environment
from engage_core import Channel

DEMO_MOST = 1_000_000  # simulated messages: more is a benchmark's job (benchmarks/), not a demo's


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engage",
        description="Follow SMS, email and WhatsApp messages through their lifecycles.",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        default=None,
        help=f"event store: sqlite:///path.db, postgresql://…, memory:// "
        f"(default: ${STORE_ENV_VAR} or sqlite:///engage.db)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    observe = sub.add_parser(
        "observe", help="apply provider-neutral observations (JSON Lines) to messages"
    )
    observe.add_argument(
        "file", metavar="FILE|-", type=arguments.path, help="JSON Lines file, or - for stdin"
    )
    observe.add_argument(
        "--batch-size",
        type=arguments.positive,
        default=1000,
        help="inputs saved per transaction (default 1000)",
    )
    observe.set_defaults(handler=commands.observe)

    message = sub.add_parser("message", help="show one message: status, history, engagement")
    which = message.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--id", dest="message_id", metavar="UUID", type=arguments.text, help="Engage's message id"
    )
    which.add_argument(
        "--provider-message-id", metavar="ID", type=arguments.name,
        help="the provider's message id",
    )  # fmt: skip
    message.add_argument(
        "--channel", choices=[c.value for c in Channel], help="with --provider-message-id"
    )
    message.add_argument(
        "--provider",
        type=arguments.name,
        help="with --provider-message-id (default: the channel's usual providers)",
    )
    message.set_defaults(handler=commands.message)

    diagram = sub.add_parser("diagram", help="print a lifecycle as a Mermaid state diagram")
    diagram.add_argument("channel", choices=[c.value for c in Channel])
    diagram.set_defaults(handler=commands.diagram)

    subscriptions = sub.add_parser("subscriptions", help="change consent in bulk (issue 3)")
    subscription_verbs = subscriptions.add_subparsers(dest="verb", required=True, metavar="VERB")
    csv_import = subscription_verbs.add_parser(
        "import", help="apply a Segment subscription CSV, rows in order"
    )
    csv_import.add_argument("file", metavar="FILE.csv", type=arguments.path)
    csv_import.add_argument(
        "--errors",
        metavar="ERRORS.csv",
        type=arguments.path,
        help="write failed rows here, fixable and re-uploadable",
    )
    csv_import.set_defaults(handler=commands.import_subscriptions)
    consent.add_parsers(sub, subscription_verbs)
    ingest.add_parsers(sub)
    views.add_parsers(sub)
    destinations.add_parsers(sub)

    demo = sub.add_parser("demo", help="drive simulated traffic through the core and summarise")
    demo.add_argument(
        "--messages", type=arguments.bounded(1, DEMO_MOST), default=300,
        help=f"messages to simulate (300; at most {DEMO_MOST:,})",
    )  # fmt: skip
    demo.add_argument("--seed", type=arguments.seed, default=2026, help="random seed (2026)")
    demo.set_defaults(handler=commands.demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb; every line it prints, on stdout or stderr, goes out without a secret."""
    arguments_given = sys.argv[1:] if argv is None else list(argv)
    _remember_store_passwords(arguments_given)
    with redacted_output():
        return _run(arguments_given)


def _run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.store is None:
        args.store = store_url_from_environment()
    try:
        code: int = args.handler(args)
    except (commands.UsageError, StoreURLError) as error:
        parser.print_usage(sys.stderr)
        print(f"engage: error: {redact_line(str(error))}", file=sys.stderr)
        return 2
    except commands.CommandFailed as error:
        print(f"engage: {redact_line(str(error))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`engage … | head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("engage: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last resort: one line, never a traceback
        # every known bad input is refused where it is read; this is for what was not foreseen
        reason = redact_line(str(error))
        reason = reason if len(reason) <= 500 else reason[:500] + "…"
        print(f"engage: internal error: {type(error).__name__}: {reason}", file=sys.stderr)
        return 1
    return code


def _remember_store_passwords(argv: Sequence[str]) -> None:
    """Passwords in URLs given as arguments (`--store`) are secrets from the start, before any
    message could quote one (argparse's own errors included); `ENGAGE_STORE`'s always are."""
    for given in argv:
        remember_url_password(given.partition("=")[2] if given.startswith("--") else given)


if __name__ == "__main__":
    sys.exit(main())
