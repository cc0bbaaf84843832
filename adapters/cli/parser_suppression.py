"""`engage suppression` and `engage policies`: suppressions made by policies over message
facts, lifted by an operator, re-derived when a policy's version changes."""

from __future__ import annotations

from adapters.cli.verbs import Verbs


def add_parsers(verbs: Verbs) -> None:
    """Register `suppression` and `policies`."""
