"""`engage links`: signed preference, unsubscribe and confirmation links for a contact."""

from __future__ import annotations

from adapters.cli.verbs import Verbs


def add_parsers(verbs: Verbs) -> None:
    """Register `links`."""
