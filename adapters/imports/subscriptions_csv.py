"""Import Segment's subscription CSV: streamed in bounded memory, rows applied in order in
batches, bad rows never stopping good ones, and a re-uploadable error file.

The rules are the core's (`engage_core.consent.csv_format` judges rows; the application decides
the changes); this module only reads the file, batches, and reports.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TextIO

import attrs

from engage_core import EngageApplication
from engage_core.consent.csv_format import (
    ERROR_COLUMNS,
    Header,
    HeaderError,
    RowChanges,
    RowError,
    read_header,
    read_row,
)
from engage_core.consent.events import changed_anything, first_refusal

ROWS_PER_BATCH = 1000


@attrs.frozen
class ImportResult:
    """Row counts; they add up to `rows`."""

    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    failed: int = 0

    def __add__(self, other: ImportResult) -> ImportResult:
        return ImportResult(
            *(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True))
        )


class ErrorFile:
    """Failed rows with `row_number`, `error_code`, `error_message` and their original cells."""

    def __init__(self, stream: TextIO | None, header: Header) -> None:
        self._writer = csv.writer(stream) if stream is not None else None
        self._keep = [
            i for i, c in enumerate(header.columns) if c.strip().lower() not in ERROR_COLUMNS
        ]
        if self._writer is not None:
            self._writer.writerow([*ERROR_COLUMNS, *(header.columns[i] for i in self._keep)])

    def add(self, error: RowError, cells: list[str]) -> None:
        if self._writer is not None:
            kept = [cells[i] if i < len(cells) else "" for i in self._keep]
            self._writer.writerow([error.row_number, error.error_code, error.error_message, *kept])


class ImportStopped(Exception):
    """The file became unreadable part-way: rows up to `last_row` were applied (`result`).
    (The file is decoded in chunks, so the bad byte may lie a few rows further on.)"""

    def __init__(self, result: ImportResult, last_row: int, reason: str) -> None:
        super().__init__(f"unreadable after row {last_row} ({reason})")
        self.result = result
        self.last_row = last_row


class _Unreadable(Exception):
    def __init__(self, row_number: int, reason: str) -> None:
        super().__init__(reason)
        self.row_number = row_number
        self.reason = reason


def _rows(stream: TextIO) -> Iterator[list[str]]:
    reader = csv.reader(stream)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            if reader.line_num <= 1:
                raise HeaderError(f"not a readable CSV file ({error})") from error
            raise _Unreadable(reader.line_num, f"not readable as CSV ({error})") from error
        yield row


def import_subscriptions(
    app: EngageApplication,
    stream: TextIO,
    *,
    source: str,
    errors: TextIO | None = None,
    on_error: Callable[[RowError], None] | None = None,
    on_batch: Callable[[ImportResult], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    rows_per_batch: int = ROWS_PER_BATCH,
) -> ImportResult:
    """Apply a subscription CSV; `HeaderError` (nothing applied) when the file is unusable.
    `on_error` hears of each failed row, `on_batch` of the running counts after each batch."""
    now = (clock or (lambda: datetime.now(UTC)))()
    rows = _rows(stream)
    first = next(rows, None)
    if first is None:
        raise HeaderError("the file is empty: no header row")
    header = read_header(first)
    error_file = ErrorFile(errors, header)
    result = ImportResult()
    batch: list[tuple[RowChanges | RowError, list[str]]] = []  # in row order, errors too

    def fail(error: RowError, cells: list[str]) -> None:
        error_file.add(error, cells)
        if on_error is not None:
            on_error(error)

    def flush() -> ImportResult:
        changes = [
            c for parsed, _ in batch if isinstance(parsed, RowChanges) for c in parsed.changes
        ]
        events = iter(app.change_consent(changes))
        applied = unchanged = failed = 0
        for parsed, cells in batch:
            if isinstance(parsed, RowError):
                fail(parsed, cells)
                failed += 1
                continue
            decided = [next(events) for _ in parsed.changes]
            refused = first_refusal(decided)
            if refused is not None:
                fail(RowError(parsed.row_number, refused.value, _MESSAGES[refused.value]), cells)
                failed += 1
            elif changed_anything(decided):
                applied += 1
            else:
                unchanged += 1
        done = ImportResult(len(batch), applied, unchanged, failed)
        batch.clear()
        return done

    try:
        for number, cells in enumerate(rows, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines
            parsed = read_row(
                header, cells, number, source=source, effective_at=now, recorded_at=now
            )
            batch.append((parsed, cells))
            if len(batch) >= rows_per_batch:
                result += flush()
                if on_batch is not None:
                    on_batch(result)
    except _Unreadable as stop:
        raise ImportStopped(result + flush(), stop.row_number, stop.reason) from stop
    return result + flush()


_MESSAGES = {
    "UNABLE_TO_SUBSCRIBE": "the user sent STOP; only the user's START can resubscribe",
    "GLOBAL_STATE_NOT_SUBSCRIBED": "the address's email channel is not subscribed, so its "
    "groups cannot be changed",
}
