"""Argument types for every `engage` verb: each option's value is checked where argparse reads
it, so a bad one is a one-line usage error (exit 2) naming the option, never a traceback from
deep inside the core or the store.

Why each bound: SQLite integers are 64-bit, so a position or id above 2**63 - 1 cannot even be
asked about; text reaches JSON, SQLite and uuid5, all of which need UTF-8 (a shell passes bytes
that are not as lone surrogates) and none of which want a NUL; group names and times are
checked by the same functions the core uses, so the CLI refuses exactly what the core would.

The parser is built from this module before any verb runs (`engage --help` included), so the
core's functions are imported inside the validators that need them, not here: importing the
core loads eventsourcing and every lifecycle.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

LARGEST_INTEGER = 2**63 - 1  # SQLite's INTEGER, and so the largest position or id stored
LONGEST_TEXT = 4096  # characters in a free-text option (an id, a name, a URL)
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() takes "²", which int() refuses


def _whole_number(text: str, low: int, high: int, what: str) -> int:
    stripped = text.strip()
    sign = stripped[:1] if stripped[:1] in {"-", "+"} else ""
    if not _DIGITS.fullmatch(stripped[len(sign) :]):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not {what}")
    value = int(stripped)
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not {what}")
    return value


def bounded(low: int, high: int = LARGEST_INTEGER) -> Callable[[str], int]:
    """A whole number from `low` to `high` (ASCII digits, an optional sign)."""
    what = f"a whole number from {low} to {high}"

    def parse(text: str) -> int:
        return _whole_number(text, low, high, what)

    parse.__name__ = "whole number"  # argparse names the type in its own messages
    return parse


position = bounded(0)  # an outbox position: 0 means "before the first"
positive = bounded(1)  # a count, a batch size, a dead letter's id
seed = bounded(-LARGEST_INTEGER - 1)


def text(value: str) -> str:
    """Free text: UTF-8, no NUL, at most `LONGEST_TEXT` characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"{_shown(value)}: not UTF-8 text") from None
    if "\0" in value:
        raise argparse.ArgumentTypeError(f"{_shown(value)}: contains a NUL character")
    if len(value) > LONGEST_TEXT:
        raise argparse.ArgumentTypeError(f"longer than {LONGEST_TEXT} characters")
    return value


def name(value: str) -> str:
    """Text that names something (a provider, a destination, a view): not blank."""
    if not text(value).strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


def path(value: str) -> str:
    """A file path (or `-`): not empty and no NUL (every file call refuses one)."""
    if not value:
        raise argparse.ArgumentTypeError("an empty path")
    if "\0" in value:
        raise argparse.ArgumentTypeError(f"{_shown(value)}: contains a NUL character")
    return value


def group_name(value: str) -> str:
    """A subscription group's name, checked as the core checks it."""
    from engage_core.consent.contacts import normalise_group_name
    from engage_core.observations import InvalidInput

    try:
        return normalise_group_name(text(value))
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.problem) from None


def timestamp(value: str) -> datetime:
    """An ISO-8601 time (a trailing Z allowed; without a zone, UTC), as the core reads one."""
    from engage_core.observations import InvalidInput, parse_timestamp

    try:
        return parse_timestamp(text(value), "time")
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.problem) from None


def uuid(value: str) -> UUID:
    """A UUID in any of the usual spellings."""
    try:
        return UUID(text(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_shown(value)} is not a UUID") from None


def position_or_time(value: str) -> str:
    """`replay --from`: an outbox position (digits) or an ISO-8601 time; given back as written
    (the reply echoes it), `start` reads it."""
    start(value)
    return value


def start(value: str) -> tuple[int, datetime | None]:
    """The position to replay from and, for a time, the moment events must be at or after."""
    stripped = text(value).strip()
    if stripped[:1].isdigit() and _DIGITS.fullmatch(stripped):
        return bounded(0)(stripped), None
    from engage_core.observations import InvalidInput, parse_timestamp

    try:
        return 1, parse_timestamp(stripped, "--from")
    except InvalidInput:
        raise argparse.ArgumentTypeError(
            f"{_shown(value)} is neither an outbox position (0 to {LARGEST_INTEGER}) nor an "
            "ISO-8601 time"
        ) from None


def _shown(value: str, longest: int = 80) -> str:
    """A value quoted for a message: short, one line, printable whatever it holds."""
    shown = repr(value if len(value) <= longest else value[:longest] + "…")
    return shown.encode("utf-8", "backslashreplace").decode("utf-8")


def contact_arguments(verb: argparse.ArgumentParser) -> None:
    """CHANNEL and KEY, the contact a consent verb is about, as every such verb takes them."""
    verb.add_argument("channel", metavar="CHANNEL", type=text,
                      help="EMAIL, SMS or WHATSAPP (any case)")  # fmt: skip
    verb.add_argument("key", metavar="KEY", type=text,
                      help="the email address or phone number")  # fmt: skip
