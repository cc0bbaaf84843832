"""The one error every way into the core raises for input it cannot accept, so that callers
(the CLI, the service, an embedding application) catch one type and show its field."""

from __future__ import annotations

from collections.abc import Iterable, Set


class InvalidInput(ValueError):
    """An input that cannot be accepted; the message names the field and what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def refuse_unknown(field: str, given: Iterable[object], known: Set[str], what: str) -> None:
    """`InvalidInput` on `field` naming the first of `given` that is not `known` (as a
    `what`, e.g. "field"), with every known name: a typo is told what was meant."""
    unknown = sorted(set(given) - set(known), key=str)
    if unknown:
        names = ", ".join(sorted(known))
        raise InvalidInput(field, f"unknown {what} {unknown[0]!r} (known: {names})")
