"""The suppression verbs of `engage`: `suppression show`, `suppression lift` and `policies
rederive`. What they print is built by `adapters.queries`, which the service's
`/api/suppressions` routes answer with too.

The suppression policy is read from the environment here (`policy_from_environment`), so a
bad setting is a usage error naming the variable before anything is read or written.
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
from engage_core.suppression import SuppressionPolicy, policy_from_environment

__all__ = ["lift", "rederive", "show"]


def _contact(args: argparse.Namespace) -> ContactKey:
    try:
        return contact_of(args.channel, args.key)
    except InvalidInput as error:
        raise UsageError(str(error)) from error


def _policy() -> SuppressionPolicy:
    try:
        return policy_from_environment(os.environ)
    except ValueError as error:
        raise UsageError(str(error)) from None


def show(args: argparse.Namespace) -> int:
    contact = _contact(args)
    with application(args.store) as app:
        answer = suppression_answer(app, contact)
    print(dumps(answer))
    return 0


def lift(args: argparse.Namespace) -> int:
    contact, policy = _contact(args), _policy()
    operator = args.operator if args.operator is not None else os.environ.get("USER") or "cli"
    with application(args.store) as app:
        app.suppression_policy = policy
        try:
            answer = lift_answer(app, contact, reason=args.reason, operator=operator)
        except InvalidInput as error:  # a blank or overlong reason or operator: nothing written
            option = f"--{error.field}" if error.field in {"reason", "operator"} else error.field
            raise UsageError(f"{option}: {error.problem}") from None
    print(dumps(answer))
    return 0


def rederive(args: argparse.Namespace) -> int:
    policy = _policy()
    with application(args.store) as app:
        app.suppression_policy = policy
        answer = rederive_answer(app, policy)
    print(dumps(answer))
    return 0
