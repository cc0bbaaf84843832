"""`--pretty`: one switch for every verb's JSON, set by `main` around the handler, read by
`render.dumps`. A module of its own (no orjson, no core) because `main` imports it before any
verb runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_PRETTY: ContextVar[bool] = ContextVar("pretty", default=False)


@contextmanager
def pretty_output(pretty: bool) -> Iterator[None]:
    """While inside, `dumps` indents by default: rather than a flag threaded through each
    handler to each of its prints."""
    token = _PRETTY.set(pretty)
    try:
        yield
    finally:
        _PRETTY.reset(token)


def pretty_wanted() -> bool:
    """Whether the running verb was given `--pretty` (before or after its name)."""
    return _PRETTY.get()
