"""`engage links`: signed preference, unsubscribe and confirmation links for a contact."""

from __future__ import annotations

import argparse

from adapters.cli import arguments
from adapters.cli.verbs import Verbs


def duration(value: str) -> str:
    """`--expires`: a duration as `ENGAGE_LINK_EXPIRES` takes one (30d, 12h, 90m), checked by
    the core's parser; given back as written, the handler reads it."""
    from engage_core.links import parse_duration
    from engage_core.observations import InvalidInput

    try:
        parse_duration(arguments.text(value), "--expires")
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.problem) from None
    return value


def add_parsers(verbs: Verbs) -> None:
    """Register `links`."""
    links = verbs.add(
        "links", "signed preference and unsubscribe links (or a confirmation link) for a contact",
        "prints one line:\n"
        '  {"preferences": URL, "unsubscribe": URL, "headers": {"List-Unsubscribe": "<URL>",\n'
        '   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"} (null off email),\n'
        '   "expires_at": ISO-8601, "token_id": ID}\n'
        'with --confirm: {"confirm": URL, "expires_at": ISO-8601, "token_id": ID}\n\n'
        "needs ENGAGE_LINK_SECRET (comma-separated secrets of 16+ characters, the first signs)\n"
        "and ENGAGE_PUBLIC_URL (https://… the service's public URL); ENGAGE_LINK_EXPIRES sets\n"
        "the default lifetime (60d; confirmation links 7d). Opens no store.\n\n"
        "exit codes: 0 printed; 2 usage error (a bad channel, key, group or duration, or the\n"
        "settings above missing or unusable).",
        "adapters.cli.links:links",
    )  # fmt: skip
    arguments.contact_arguments(links)
    links.add_argument("--group", metavar="NAME", type=arguments.group_name,
                       help="links for one subscription group (email only)")  # fmt: skip
    links.add_argument(
        "--expires", metavar="DURATION", type=duration,
        help="how long the links work: 30d, 12h, 90m (default $ENGAGE_LINK_EXPIRES or 60d)",
    )  # fmt: skip
    links.add_argument("--message-id", metavar="ID", type=arguments.name,
                       help="the message the links are made for (kept in the token)")  # fmt: skip
    links.add_argument("--confirm", action="store_true",
                       help="a double opt-in confirmation link instead (default 7d)")  # fmt: skip
