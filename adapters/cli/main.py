"""`engage`: observe provider reports, inspect messages, draw lifecycles, run the demo.

Exit codes: 0 success; 1 nothing could be done (missing file, unreadable store, every input
rejected, message not found); 2 usage errors (argparse's own, every option's value checked by
`arguments`, and a bad store URL). Bad input gets a one-line reason on stderr, never a
traceback; what is printed never holds a secret (`adapters.redaction`).

This module and the parser are light: a verb's handler module (and with it the core,
eventsourcing, the stores) is imported only when that verb runs, so `engage --help` and
`engage diagram sms` do not pay for every other verb's imports.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from adapters.cli.errors import CommandFailed, UsageError
from adapters.cli.parser import DEMO_MOST, build_parser
from adapters.cli.pretty import pretty_output
from adapters.redaction import redact_line, redacted_output, remember_url_password
from adapters.stores import StoreURLError, store_url_from_environment

__all__ = ["DEMO_MOST", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb; every line it prints, on stdout or stderr, goes out without a secret."""
    arguments_given = sys.argv[1:] if argv is None else list(argv)
    _remember_store_passwords(arguments_given)
    with redacted_output():
        return _run(arguments_given, whole_process=argv is None)


def handler_of(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    """The verb's handler, its module imported now ("module:function", set by the parser)."""
    module, _, function = str(args.handler).partition(":")
    handler: Callable[[argparse.Namespace], int] = getattr(import_module(module), function)
    return handler


def _run(argv: list[str], *, whole_process: bool = False) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.store is None:
        args.store = store_url_from_environment()
    try:
        with pretty_output(args.pretty):
            handler = handler_of(args)
            if whole_process:
                # What start-up imported lives as long as the process: out of the collector's
                # reach, full collections during a bulk verb walk only the verb's own objects.
                # (Not when embedded, as in tests: it would pin the caller's objects too.)
                gc.freeze()
            code: int = handler(args)
    except (UsageError, StoreURLError) as error:
        parser.print_usage(sys.stderr)
        print(f"engage: error: {redact_line(str(error))}", file=sys.stderr)
        return 2
    except CommandFailed as error:
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
