"""The consent verbs of `engage` that read consent: `subscription` and `can-send`. What they
print is built by `adapters.queries`, which the service's `/api/` routes answer with too."""

from __future__ import annotations

import argparse
from datetime import datetime

from adapters.cli.commands import application
from adapters.cli.errors import UsageError
from adapters.cli.render import dumps
from adapters.queries import can_send_answer, contact_of, subscription_answer
from engage_core.consent.contacts import ContactKey
from engage_core.observations import InvalidInput, parse_timestamp

__all__ = ["can_send_to", "contact_and_time", "subscription"]


def contact_and_time(args: argparse.Namespace) -> tuple[ContactKey, datetime | None]:
    """The contact (CHANNEL KEY, with any --group) and the --as-of time a verb names."""
    return _contact(args), _as_of(args)


def _contact(args: argparse.Namespace) -> ContactKey:
    given = getattr(args, "group", None)
    groups = given if isinstance(given, list) else [given] if given else []
    try:
        return contact_of(args.channel, args.key, groups)
    except InvalidInput as error:
        raise UsageError(str(error)) from error


def _as_of(args: argparse.Namespace) -> datetime | None:
    if args.as_of is None:
        return None
    try:
        return parse_timestamp(args.as_of, "--as-of")
    except InvalidInput as error:
        raise UsageError(str(error)) from error


def subscription(args: argparse.Namespace) -> int:
    contact, as_of = _contact(args), _as_of(args)
    with application(args.store) as app:
        answer = subscription_answer(
            app, contact, groups=args.group, as_of=as_of, history=args.history
        )
    print(dumps(answer))
    return 0


def can_send_to(args: argparse.Namespace) -> int:
    contact = _contact(args)
    with application(args.store) as app:
        answer = can_send_answer(app, contact, group=args.group, transactional=args.transactional)
    print(dumps(answer))
    return 0
