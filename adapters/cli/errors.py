"""The two errors every `engage` handler may raise, which `main` turns into a one-line message
and an exit code. They live apart from the handlers so that `main` can catch them without
importing any handler's (heavy) module before a verb runs."""

from __future__ import annotations


class UsageError(Exception):
    """Arguments that do not make sense together: exit 2."""


class CommandFailed(Exception):
    """Nothing could be done: exit 1."""
