"""`engage`: observe provider reports, inspect messages, draw lifecycles, run the demo.

Exit codes: 0 success; 1 nothing could be done (missing file, unreadable store, every input
rejected, message not found); 2 usage errors (argparse's own, and a bad store URL). Bad input
gets a one-line reason on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from adapters.cli import commands, consent, destinations, ingest, views
from adapters.stores import STORE_ENV_VAR, StoreURLError, store_url_from_environment
from engage_core import Channel


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
    observe.add_argument("file", metavar="FILE|-", help="JSON Lines file, or - for stdin")
    observe.add_argument(
        "--batch-size", type=int, default=1000, help="inputs saved per transaction (default 1000)"
    )
    observe.set_defaults(handler=commands.observe)

    message = sub.add_parser("message", help="show one message: status, history, engagement")
    which = message.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="message_id", metavar="UUID", help="Engage's message id")
    which.add_argument("--provider-message-id", metavar="ID", help="the provider's message id")
    message.add_argument(
        "--channel", choices=[c.value for c in Channel], help="with --provider-message-id"
    )
    message.add_argument(
        "--provider", help="with --provider-message-id (default: the channel's usual providers)"
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
    csv_import.add_argument("file", metavar="FILE.csv")
    csv_import.add_argument(
        "--errors", metavar="ERRORS.csv", help="write failed rows here, fixable and re-uploadable"
    )
    csv_import.set_defaults(handler=commands.import_subscriptions)
    consent.add_parsers(sub, subscription_verbs)
    ingest.add_parsers(sub)
    views.add_parsers(sub)
    destinations.add_parsers(sub)

    demo = sub.add_parser("demo", help="drive simulated traffic through the core and summarise")
    demo.add_argument("--messages", type=int, default=300, help="messages to simulate (300)")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    demo.set_defaults(handler=commands.demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.store is None:
        args.store = store_url_from_environment()
    try:
        code: int = args.handler(args)
    except (commands.UsageError, StoreURLError) as error:
        parser.print_usage(sys.stderr)
        print(f"engage: error: {error}", file=sys.stderr)
        return 2
    except commands.CommandFailed as error:
        print(f"engage: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`engage … | head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("engage: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
