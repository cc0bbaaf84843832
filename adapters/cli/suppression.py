"""The suppression verbs of `engage`: `suppression show`, `suppression lift` and `policies
rederive`. What they print is built by `adapters.queries`, which the service's
`/api/suppressions` routes answer with too.

The suppression policy is the one `application` opens the store with (the deployment's
settings, checked before the store is touched: a bad one is a usage error naming the
variable).
"""

from __future__ import annotations

import argparse
import os

from adapters.cli.commands import application
from adapters.cli.errors import UsageError
from adapters.cli.render import dumps
from adapters.queries import contact_of, lift_answer, rederive_answer, suppression_answer
from engage_core.consent.contacts import ContactKey
from engage_core.observations import InvalidInput

__all__ = ["lift", "rederive", "show"]


def _contact(args: argparse.Namespace) -> ContactKey:
    try:
        return contact_of(args.channel, args.key)
    except InvalidInput as error:
        raise UsageError(str(error)) from error


def show(args: argparse.Namespace) -> int:
    contact = _contact(args)
    with application(args.store) as app:
        answer = suppression_answer(app, contact)
    print(dumps(answer))
    return 0


def lift(args: argparse.Namespace) -> int:
    contact = _contact(args)
    operator = args.operator if args.operator is not None else os.environ.get("USER") or "cli"
    with application(args.store) as app:
        try:
            answer = lift_answer(app, contact, reason=args.reason, operator=operator)
        except InvalidInput as error:  # a blank or overlong reason or operator: nothing written
            option = f"--{error.field}" if error.field in {"reason", "operator"} else error.field
            raise UsageError(f"{option}: {error.problem}") from None
    print(dumps(answer))
    return 0


def rederive(args: argparse.Namespace) -> int:
    with application(args.store) as app:
        answer = rederive_answer(app, app.suppression_policy)
    print(dumps(answer))
    return 0
