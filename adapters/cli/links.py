"""`engage links`: a contact's signed links, made from the deployment's settings
(`ENGAGE_LINK_SECRET`, `ENGAGE_PUBLIC_URL`, `ENGAGE_LINK_EXPIRES`) with no store opened.

The signer is the one `open_application` would give the application
(`adapters.stores.links_settings`), which remembers each of the comma-separated secrets as a
secret (`adapters.redaction`) before anything can be printed."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from adapters.cli.errors import UsageError
from adapters.cli.render import dumps
from adapters.stores.links_settings import links_from_environment
from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.errors import InvalidInput
from engage_core.links import (
    SECRET_VAR,
    LinkClaims,
    LinkPurpose,
    LinkSigner,
    list_unsubscribe_headers,
    make_claims,
    parse_duration,
)

__all__ = ["links"]


def links(args: argparse.Namespace) -> int:
    contact = _contact(args)
    if args.confirm and (args.group or args.message_id):
        raise UsageError("--confirm links are for the channel: no --group or --message-id")
    signer = _signer()
    print(dumps(links_json(signer, contact, args, now=datetime.now(UTC))))
    return 0


def links_json(
    signer: LinkSigner, contact: ContactKey, args: argparse.Namespace, *, now: datetime
) -> dict[str, Any]:
    """What `engage links` prints for `contact` (`args`: its options)."""
    purpose = LinkPurpose.CONFIRM if args.confirm else LinkPurpose.MANAGE
    default = signer.confirm_expires_in if args.confirm else signer.expires_in
    expires_in = parse_duration(args.expires, "--expires") if args.expires else default
    try:
        claims = make_claims(purpose, contact, group=args.group, message_id=args.message_id,
                             expires_in=expires_in, now=now)  # fmt: skip
        made = {"confirm": signer.confirm_url(claims)} if args.confirm else _manage(signer, claims)
    except InvalidInput as error:
        raise UsageError(str(error)) from error
    return {**made, "expires_at": claims.expires_at.isoformat(), "token_id": claims.token_id}


def _manage(signer: LinkSigner, claims: LinkClaims) -> dict[str, Any]:
    unsubscribe = signer.unsubscribe_url(claims)
    email = claims.channel is Channel.EMAIL  # List-Unsubscribe is an email header
    return {
        "preferences": signer.preferences_url(claims),
        "unsubscribe": unsubscribe,
        "headers": list_unsubscribe_headers(unsubscribe) if email else None,
    }


def _contact(args: argparse.Namespace) -> ContactKey:
    try:
        return ContactKey.parse(args.channel, args.key)
    except InvalidInput as error:
        raise UsageError(str(error)) from error


def _signer() -> LinkSigner:
    """The deployment's signer; a usage error naming the variable when it cannot be made."""
    try:
        signer = links_from_environment(os.environ)
        if signer is None:
            raise ValueError(f"{SECRET_VAR} is not set: signed links need it")
    except ValueError as error:
        raise UsageError(str(error)) from None
    return signer
