"""The size limits the `engage` verbs apply, from the `ENGAGE_MAX_*` settings
(`docs/limits.md`): the core reads no environment, so the CLI builds them and passes them in."""

from __future__ import annotations

import os

from adapters.cli.commands import _input
from adapters.cli.errors import CommandFailed, UsageError
from engage_core.limits import SETTINGS, Limits, LimitSettingError


def limits_from_environment() -> Limits:
    """The limits in force; a bad setting is a usage error (one line, exit 2)."""
    try:
        return Limits.from_environment(os.environ)
    except LimitSettingError as error:
        raise UsageError(str(error)) from error


def read_request(name: str, limits: Limits) -> bytes:
    """A whole API request file (or stdin, `-`), refused unparsed when it is over
    `limits.api_request_bytes`: at most that many bytes (and one) are ever read."""
    limit = limits.api_request_bytes
    with _input(name) as stream:
        try:
            body = stream.read(limit + 1)
        except OSError as error:
            raise CommandFailed(f"cannot read {name}: {error.strerror or error}") from error
    if len(body) > limit:
        raise CommandFailed(
            f"{name}: request over the limit of {limit} bytes ({SETTINGS['api_request_bytes']});"
            " nothing was applied"
        )
    return body


def check_items(name: str, count: int, limits: Limits) -> None:
    """`CommandFailed` when a request has more items than `limits.api_items`."""
    if count > limits.api_items:
        raise CommandFailed(
            f"{name}: {count} items, over the limit of {limits.api_items} per request "
            f"({SETTINGS['api_items']}); nothing was applied"
        )
