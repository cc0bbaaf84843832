"""`engage proof`: a contact's consent proof, as JSON or as a print-ready HTML page, read from
the log by the application (`EngageApplication.consent_proof`)."""

from __future__ import annotations

import argparse

from adapters.cli.commands import application
from adapters.cli.consent import contact_and_time
from adapters.cli.errors import CommandFailed
from adapters.cli.render import dumps

__all__ = ["proof"]


def proof(args: argparse.Namespace) -> int:
    contact, as_of = contact_and_time(args)
    with application(args.store) as app:
        document = app.consent_proof(contact, as_of=as_of)
    if args.format == "json":
        print(dumps(document))
        return 0
    try:
        from adapters.proof_html import proof_html

        print(proof_html(document))
    except ImportError as error:
        raise CommandFailed("--format html needs Jinja2: install engage-core[server]") from error
    return 0
