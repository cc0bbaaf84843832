"""Segment's subscription CSV (DOMAIN.md §4), read row by row into consent changes. Pure: the
file itself is streamed by the adapter; this module judges a header and each row.

Columns: `email`, `phone`, `email_subscription_status`, `sms_subscription_status`,
`whatsapp_subscription_status`, and `<group>_subscription_status` for each group. Column names
match in any case. A blank cell never overwrites. A row's channel changes come before its group
changes, so a row that subscribes an address and a group at once works. Row numbers count the
header as row 1, as a spreadsheet shows them.

Two promises about the files around the import live here too, because they are the format's:
how big a file may be (`CsvLimits`), and how a cell is written to the error file so that a
spreadsheet never runs it as a formula and the file still imports to the same values
(`escape_cell`, `unescape_cell`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain

import attrs

from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import (
    DEFAULT_REGION,
    ContactKey,
    normalise_email,
    normalise_group_name,
    normalise_phone,
)
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.limits import WHOLE_NUMBER
from engage_core.observations import InvalidInput

__all__ = [
    "CSV_SETTINGS",
    "DEFAULT_CSV_LIMITS",
    "ERROR_COLUMNS",
    "FORMULA_STARTS",
    "CsvLimitSettingError",
    "CsvLimits",
    "Header",
    "HeaderError",
    "RowChanges",
    "RowError",
    "Target",
    "escape_cell",
    "over_limit",
    "read_header",
    "read_row",
    "unescape_cell",
]


_SUFFIX = "_subscription_status"
# The columns an error file adds: ignored on input, so a fixed error file imports as it is.
ERROR_COLUMNS = ("row_number", "error_code", "error_message")
_CHANNEL_COLUMNS = {
    "email_subscription_status": Channel.EMAIL,
    "sms_subscription_status": Channel.SMS,
    "whatsapp_subscription_status": Channel.WHATSAPP,
}


class HeaderError(ValueError):
    """The header makes the whole file unusable; nothing is applied."""


# Cells a spreadsheet may run as a formula (OWASP's CSV injection list): written to the error
# file behind a `'`, which spreadsheets show as text and the importer reads back off.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _quoted_formula(cell: str) -> bool:
    """Whether `cell` is one or more `'` and then a formula start: what an escaped cell looks
    like, so a cell that already does is escaped too and the escape stays reversible."""
    rest = cell.lstrip("'")
    return len(rest) < len(cell) and rest.startswith(FORMULA_STARTS)


def escape_cell(cell: str) -> str:
    """A cell as the error file writes it: behind a `'` when it starts like a formula (or like
    an escaped one), else as it is. `unescape_cell(escape_cell(c)) == c` for every `c`."""
    if cell.startswith(FORMULA_STARTS) or _quoted_formula(cell):
        return "'" + cell
    return cell


def unescape_cell(cell: str) -> str:
    """A cell as read from a file: the `'` that `escape_cell` added taken back off. Only a cell
    of `'`s then a formula start loses one; any other cell, `'` or not, is read as it is."""
    return cell[1:] if cell.startswith("'") and _quoted_formula(cell) else cell


class CsvLimitSettingError(ValueError):
    """A CSV limit setting that is not a whole number in range; the message names it."""


_MOST_CSV = {"max_columns": 100_000, "max_cell_chars": 1 << 30, "max_row_chars": 1 << 30}


def _at_least_one(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    most = _MOST_CSV[attribute.name]  # beyond it, no limit at all (and no C long either)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise CsvLimitSettingError(
            f"{CSV_SETTINGS[attribute.name]}: a whole number from 1 to {most} (got {value!r})"
        )


@attrs.frozen
class CsvLimits:
    """How big a subscription CSV may be, so that no file can take memory out of proportion.
    Segment's columns are a handful and their cells short: the defaults leave ample room."""

    max_columns: int = attrs.field(default=1_000, validator=_at_least_one)
    max_cell_chars: int = attrs.field(default=64 * 1024, validator=_at_least_one)
    # one row, all its lines (a quoted cell may hold line breaks) without the last line ending
    max_row_chars: int = attrs.field(default=1024 * 1024, validator=_at_least_one)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> CsvLimits:
        """The defaults, with each `ENGAGE_CSV_MAX_*` setting found in `environ` instead;
        `CsvLimitSettingError` (one line naming the setting) for a bad one. The core reads no
        environment itself: the CLI (or an embedding service) calls this."""
        given: dict[str, int] = {}
        for field, name in CSV_SETTINGS.items():
            text = environ.get(name, "").strip()
            if not text:
                continue
            if not WHOLE_NUMBER.fullmatch(text):  # "1000" or "1_000"; not "²" or "1e6"
                raise CsvLimitSettingError(f"{name}: a whole number (got {text!r})")
            given[field] = int(text, 10)
        return cls(**given)


CSV_SETTINGS = {
    "max_columns": "ENGAGE_CSV_MAX_COLUMNS",
    "max_cell_chars": "ENGAGE_CSV_MAX_CELL_CHARS",
    "max_row_chars": "ENGAGE_CSV_MAX_ROW_CHARS",
}
DEFAULT_CSV_LIMITS = CsvLimits()


def over_limit(limits: CsvLimits, field: str, what: str) -> str:
    """The words of a refusal for being over a limit, naming the limit and its setting."""
    return f"{what} over the limit of {getattr(limits, field):,} ({CSV_SETTINGS[field]})"


@attrs.frozen
class Header:
    columns: tuple[str, ...]  # as written
    email: int | None  # positions
    phone: int | None
    channels: tuple[tuple[int, Channel], ...]
    groups: tuple[tuple[int, str], ...]


@attrs.frozen
class RowError:
    row_number: int
    error_code: str  # INVALID_EMAIL, INVALID_PHONE, INVALID_SUBSCRIPTION_STATUS, …
    error_message: str


@attrs.frozen
class RowChanges:
    row_number: int
    changes: tuple[ConsentChange, ...]
    # the position of each change's cell, so a report can say which cells applied
    positions: tuple[int, ...] = ()


def read_header(columns: Sequence[str], limits: CsvLimits = DEFAULT_CSV_LIMITS) -> Header:
    """Check a header: known columns only, none twice, and the identifiers its statuses need."""
    names = _column_names(columns, limits)
    email = names.index("email") if "email" in names else None
    phone = names.index("phone") if "phone" in names else None
    channels, groups = _status_columns(names, columns)
    needs_email = any(c is Channel.EMAIL for _, c in channels) or groups
    needs_phone = any(c is not Channel.EMAIL for _, c in channels)
    if needs_email and email is None:
        raise HeaderError("email and group statuses need an `email` column")
    if needs_phone and phone is None:
        raise HeaderError("SMS and WhatsApp statuses need a `phone` column")
    if not channels and not groups:
        raise HeaderError("no *_subscription_status column: nothing to import")
    return Header(tuple(columns), email, phone, tuple(channels), tuple(groups))


def _column_names(columns: Sequence[str], limits: CsvLimits) -> list[str]:
    """The header's names as compared (stripped, lower case), each at most once."""
    if len(columns) > limits.max_columns:
        raise HeaderError(over_limit(limits, "max_columns", f"{len(columns):,} columns,"))
    names = [c.strip().lower() for c in columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise HeaderError(f"the column {name!r} appears twice")
        seen.add(name)
    return names


def _status_columns(
    names: Sequence[str], columns: Sequence[str]
) -> tuple[list[tuple[int, Channel]], list[tuple[int, str]]]:
    """The channel and group status columns, by position; any other unknown name is refused."""
    channels: list[tuple[int, Channel]] = []
    groups: list[tuple[int, str]] = []
    for position, (name, written) in enumerate(zip(names, columns, strict=True)):
        if name in {"email", "phone", *ERROR_COLUMNS}:
            continue
        if name in _CHANNEL_COLUMNS:
            channels.append((position, _CHANNEL_COLUMNS[name]))
        elif name.endswith(_SUFFIX) and len(name) > len(_SUFFIX):
            group = written.strip()[: -len(_SUFFIX)]
            try:
                groups.append((position, normalise_group_name(group)))
            except InvalidInput as error:
                raise HeaderError(f"column {written!r}: {error.problem}") from error
        else:
            raise HeaderError(
                f"unknown column {written!r}; expected email, phone, "
                "email_subscription_status, sms_subscription_status, "
                "whatsapp_subscription_status or <group>_subscription_status"
            )
    return channels, groups


Target = Channel | str  # a channel, or a group (by name)


def read_row(
    header: Header,
    cells: Sequence[str],
    row_number: int,
    *,
    source: str,
    effective_at: datetime,
    recorded_at: datetime,
    region: str = DEFAULT_REGION,
    limits: CsvLimits = DEFAULT_CSV_LIMITS,
) -> RowChanges | RowError:
    """One row's changes, or the first reason it cannot be applied. `cells` are as the file
    means them (`unescape_cell` already applied)."""
    problem = _shape_error(header, cells, limits)
    if problem is not None:
        return RowError(row_number, problem.code, problem.message)
    statuses = _statuses(header, cells)
    if isinstance(statuses, _Refusal):
        return RowError(row_number, statuses.code, statuses.message)
    addresses = _addresses(header, cells, [t for t, _, _ in statuses], region)
    if isinstance(addresses, _Refusal):
        return RowError(row_number, addresses.code, addresses.message)
    email, phone = addresses
    # file and row, and what the row says: the same file again is a duplicate, an edited row of a
    # file of the same name is a new update (the padded row number keeps rows in file order)
    digest = hashlib.sha256("\x1f".join(cells).encode()).hexdigest()[:12]
    source_id = f"{source}:{row_number:09d}:{digest}"
    provenance = Provenance(SourceKind.CSV, source_id, effective_at, recorded_at)
    changes: list[ConsentChange] = []
    # one key per contact vector of the row, so its aggregate ids are computed once
    email_key = ContactKey(Channel.EMAIL, email) if email is not None else None
    for target, status, _ in statuses:
        update = Update(status, provenance)
        if isinstance(target, str):
            assert email_key is not None
            changes.append(GroupChange(email_key, target, update=update))
        elif target is Channel.EMAIL:
            assert email_key is not None
            changes.append(ChannelChange(email_key, update))
        else:
            assert phone is not None
            changes.append(ChannelChange(ContactKey(target, phone), update))
    return RowChanges(row_number, tuple(changes), tuple(p for _, _, p in statuses))


@attrs.frozen
class _Refusal:
    """Why a row cannot be applied (before it is a RowError with its number)."""

    code: str
    message: str


def _shape_error(header: Header, cells: Sequence[str], limits: CsvLimits) -> _Refusal | None:
    if len(cells) != len(header.columns):
        return _Refusal(
            "INVALID_ROW",
            f"{len(cells)} cells where the header has {len(header.columns)} columns",
        )
    if max(map(len, cells), default=0) <= limits.max_cell_chars:
        return None  # the usual row: no cell to name
    for position, value in enumerate(cells):
        if len(value) > limits.max_cell_chars:
            column = header.columns[position]
            return _Refusal(
                "CELL_TOO_LARGE",
                over_limit(limits, "max_cell_chars", f"{column!r}: {len(value):,} characters,"),
            )
    return None


def _statuses(
    header: Header, cells: Sequence[str]
) -> list[tuple[Target, SubscriptionStatus, int]] | _Refusal:
    """Each non-blank status cell (blank never overwrites): its target, status and position."""
    found: list[tuple[Target, SubscriptionStatus, int]] = []
    targets: Iterable[tuple[int, Target]] = chain(header.channels, header.groups)
    for position, target in targets:
        raw = cells[position].strip()
        if not raw:
            continue
        try:
            found.append((target, SubscriptionStatus.parse(raw), position))
        except InvalidInput:
            return _Refusal(
                "INVALID_SUBSCRIPTION_STATUS",
                f"{header.columns[position]!r}: {raw!r} is not subscribed, unsubscribed or "
                "did-not-subscribe",
            )
    return found


def _addresses(
    header: Header, cells: Sequence[str], targets: Sequence[Target], region: str
) -> tuple[str | None, str | None] | _Refusal:
    """The row's email address and phone number, each read only when a status needs it."""

    def cell(position: int | None) -> str:
        return cells[position].strip() if position is not None else ""

    needs_email = needs_phone = False
    for target in targets:
        if target is Channel.EMAIL or isinstance(target, str):
            needs_email = True
        else:
            needs_phone = True
    try:
        email = normalise_email(cell(header.email)) if needs_email else None
    except InvalidInput as error:
        return _Refusal("INVALID_EMAIL", error.problem)
    try:
        phone = normalise_phone(cell(header.phone), region) if needs_phone else None
    except InvalidInput as error:
        return _Refusal("INVALID_PHONE", error.problem)
    return email, phone
