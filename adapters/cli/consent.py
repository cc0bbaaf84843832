"""The consent verbs of `engage` that read consent: `subscription` and `can-send`."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from adapters.cli.commands import application
from adapters.cli.errors import UsageError
from adapters.cli.render import dumps
from engage_core.consent.contacts import (
    ContactKey,
    group_subscription_id,
    normalise_group_name,
)
from engage_core.observations import InvalidInput, parse_timestamp


def _contact(args: argparse.Namespace) -> ContactKey:
    try:
        contact = ContactKey.parse(args.channel, args.key)
        groups = args.group if isinstance(args.group, list) else [args.group] if args.group else []
        for group in groups:
            normalise_group_name(group)
            group_subscription_id(contact, group)  # groups are for email addresses only
    except InvalidInput as error:
        raise UsageError(str(error)) from error
    return contact


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
        found = app.subscription(contact, groups=args.group, as_of=as_of)
    state = found.state
    answer: dict[str, Any] = {
        "channel": contact.channel.consent_name,
        "key": contact.key,
        "status": state.status.value if state.status else None,
        "groups": {
            name: group.status.value if group.status else None
            for name, group in found.groups.items()
        },
        "locked_by_user": state.locked_by_user,
        "user_ids": list(found.user_ids),
    }
    if args.history:
        before: Any = None
        history = []
        for update, verdict in found.history:
            after = verdict.after.status.value if verdict.after.status else None
            history.append({
                "status": after, "previous_status": before, "outcome": verdict.outcome.value,
                "source": update.provenance.kind.value, "source_id": update.provenance.source_id,
                "effective_at": update.provenance.effective_at.isoformat(),
                "recorded_at": update.provenance.recorded_at.isoformat(),
                **({"user_id": update.provenance.user_id} if update.provenance.user_id else {}),
                # the time the source claimed, when the clock-skew policy clamped it
                **({"claimed_at": update.provenance.claimed_at.isoformat()}
                   if update.provenance.claimed_at else {}),
            })  # fmt: skip
            before = after
        answer["history"] = history
    print(dumps(answer))
    return 0


def can_send_to(args: argparse.Namespace) -> int:
    contact = _contact(args)
    with application(args.store) as app:
        permission = app.can_send(contact, group=args.group, transactional=args.transactional)
    print(dumps({"allowed": permission.allowed, "reason": permission.reason}))
    return 0
