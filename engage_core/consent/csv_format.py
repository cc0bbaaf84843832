"""Segment's subscription CSV (DOMAIN.md §4), read row by row into consent changes. Pure: the
file itself is streamed by the adapter; this module judges a header and each row.

Columns: `email`, `phone`, `email_subscription_status`, `sms_subscription_status`,
`whatsapp_subscription_status`, and `<group>_subscription_status` for each group. Column names
match in any case. A blank cell never overwrites. A row's channel changes come before its group
changes, so a row that subscribes an address and a group at once works. Row numbers count the
header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import attrs

from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import (
    DEFAULT_REGION,
    ContactKey,
    SubscriptionChannel,
    normalise_email,
    normalise_group_name,
    normalise_phone,
)
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.observations import InvalidInput

_SUFFIX = "_subscription_status"
# The columns an error file adds: ignored on input, so a fixed error file imports as it is.
ERROR_COLUMNS = ("row_number", "error_code", "error_message")
_CHANNEL_COLUMNS = {
    "email_subscription_status": SubscriptionChannel.EMAIL,
    "sms_subscription_status": SubscriptionChannel.SMS,
    "whatsapp_subscription_status": SubscriptionChannel.WHATSAPP,
}


class HeaderError(ValueError):
    """The header makes the whole file unusable; nothing is applied."""


@attrs.frozen
class Header:
    columns: tuple[str, ...]  # as written
    email: int | None  # positions
    phone: int | None
    channels: tuple[tuple[int, SubscriptionChannel], ...]
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


def read_header(columns: Sequence[str]) -> Header:
    """Check a header: known columns only, none twice, and the identifiers its statuses need."""
    names = [c.strip().lower() for c in columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise HeaderError(f"the column {name!r} appears twice")
        seen.add(name)
    email = names.index("email") if "email" in names else None
    phone = names.index("phone") if "phone" in names else None
    channels, groups = [], []
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
    needs_email = any(c is SubscriptionChannel.EMAIL for _, c in channels) or groups
    needs_phone = any(c is not SubscriptionChannel.EMAIL for _, c in channels)
    if needs_email and email is None:
        raise HeaderError("email and group statuses need an `email` column")
    if needs_phone and phone is None:
        raise HeaderError("SMS and WhatsApp statuses need a `phone` column")
    if not channels and not groups:
        raise HeaderError("no *_subscription_status column: nothing to import")
    return Header(tuple(columns), email, phone, tuple(channels), tuple(groups))


def read_row(
    header: Header,
    cells: Sequence[str],
    row_number: int,
    *,
    source: str,
    effective_at: datetime,
    recorded_at: datetime,
    region: str = DEFAULT_REGION,
) -> RowChanges | RowError:
    """One row's changes, or the first reason it cannot be applied."""
    if len(cells) != len(header.columns):
        return RowError(
            row_number, "INVALID_ROW",
            f"{len(cells)} cells where the header has {len(header.columns)} columns",
        )  # fmt: skip

    def cell(position: int | None) -> str:
        return cells[position].strip() if position is not None else ""

    # file and row, and what the row says: the same file again is a duplicate, an edited row of a
    # file of the same name is a new update (the padded row number keeps rows in file order)
    digest = hashlib.sha256("\x1f".join(cells).encode()).hexdigest()[:12]
    source_id = f"{source}:{row_number:09d}:{digest}"
    provenance = Provenance(SourceKind.CSV, source_id, effective_at, recorded_at)
    statuses: list[tuple[SubscriptionChannel | str, SubscriptionStatus]] = []
    targets: list[tuple[int, SubscriptionChannel | str]] = [*header.channels, *header.groups]
    for position, target in targets:
        raw = cell(position)
        if not raw:
            continue  # blank never overwrites
        try:
            statuses.append((target, SubscriptionStatus.parse(raw)))
        except InvalidInput:
            return RowError(
                row_number, "INVALID_SUBSCRIPTION_STATUS",
                f"{header.columns[position]!r}: {raw!r} is not subscribed, unsubscribed or "
                "did-not-subscribe",
            )  # fmt: skip
    changes: list[ConsentChange] = []
    needs_email = any(t is SubscriptionChannel.EMAIL or isinstance(t, str) for t, _ in statuses)
    needs_phone = any(isinstance(t, SubscriptionChannel) and t is not SubscriptionChannel.EMAIL
                      for t, _ in statuses)  # fmt: skip
    try:
        email = normalise_email(cell(header.email)) if needs_email else None
    except InvalidInput as error:
        return RowError(row_number, "INVALID_EMAIL", error.problem)
    try:
        phone = normalise_phone(cell(header.phone), region) if needs_phone else None
    except InvalidInput as error:
        return RowError(row_number, "INVALID_PHONE", error.problem)
    for target, status in statuses:
        update = Update(status, provenance)
        if isinstance(target, str):
            assert email is not None
            email_key = ContactKey(SubscriptionChannel.EMAIL, email)
            changes.append(GroupChange(email_key, target, update=update))
        else:
            key = email if target is SubscriptionChannel.EMAIL else phone
            assert key is not None
            changes.append(ChannelChange(ContactKey(target, key), update))
    return RowChanges(row_number, tuple(changes))
