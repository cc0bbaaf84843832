"""The one error every way into the core raises for input it cannot accept, so that callers
(the CLI, the service, an embedding application) catch one type and show its field."""

from __future__ import annotations


class InvalidInput(ValueError):
    """An input that cannot be accepted; the message names the field and what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
