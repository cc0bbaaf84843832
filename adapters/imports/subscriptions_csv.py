"""Import Segment's subscription CSV: streamed in bounded memory, rows applied in order in
batches, bad rows never stopping good ones, and a re-uploadable error file.

The rules are the core's (`engage_core.consent.csv_format` judges rows and sets the limits; the
application decides the changes); this module only reads the file, batches, and reports. Rows
and cells over their limits are refused like any bad row (counted, kept in the error file);
the error file's cells never start like a spreadsheet formula, and read back to what they were.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TextIO

from adapters.imports.csv_rows import TooLarge, Unreadable, bounded_rows
from engage_core import EngageApplication
from engage_core.collector import bulk_allocation
from engage_core.consent.csv_format import (
    DEFAULT_CSV_LIMITS,
    ERROR_COLUMNS,
    CsvLimits,
    Header,
    HeaderError,
    RowChanges,
    RowError,
    escape_cell,
    over_limit,
    read_header,
    read_row,
)
from engage_core.consent.events import ConsentEvent, changed_anything, first_refusal
from engage_core.counts import Counts

ROWS_PER_BATCH = 1000


class ErrorFile:
    """Failed rows with `row_number`, `error_code`, `error_message` and their original cells,
    each escaped (`escape_cell`) so that a spreadsheet shows it as text."""

    def __init__(self, stream: TextIO | None, header: Header) -> None:
        self._writer = csv.writer(stream) if stream is not None else None
        self._keep = [
            i for i, c in enumerate(header.columns) if c.strip().lower() not in ERROR_COLUMNS
        ]
        self._write([*ERROR_COLUMNS, *(header.columns[i] for i in self._keep)])

    def add(self, error: RowError, cells: Sequence[str]) -> None:
        kept = [cells[i] if i < len(cells) else "" for i in self._keep]
        self._write([str(error.row_number), error.error_code, error.error_message, *kept])

    def _write(self, cells: list[str]) -> None:
        if self._writer is not None:
            self._writer.writerow([escape_cell(cell) for cell in cells])


class ImportStopped(Exception):
    """The file became unreadable part-way: rows up to `last_row` were applied (`result`).
    (The file is decoded in chunks, so the bad byte may lie a few rows further on.)"""

    def __init__(self, result: Counts, last_row: int, reason: str) -> None:
        super().__init__(f"unreadable after row {last_row} ({reason})")
        self.result = result
        self.last_row = last_row


def _accepted_cells(parsed: RowChanges, decided: list[ConsentEvent]) -> list[int]:
    """The positions of a row's cells whose changes were accepted (applied, or already so)."""
    return [
        position
        for position, event in zip(parsed.positions, decided, strict=True)
        if first_refusal([event]) is None
    ]


@bulk_allocation()
def import_subscriptions(
    app: EngageApplication,
    stream: TextIO,
    *,
    source: str,
    errors: TextIO | None = None,
    on_error: Callable[[RowError], None] | None = None,
    on_batch: Callable[[Counts], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    rows_per_batch: int = ROWS_PER_BATCH,
    limits: CsvLimits = DEFAULT_CSV_LIMITS,
) -> Counts:
    """Apply a subscription CSV; `HeaderError` (nothing applied) when the file is unusable.
    `on_error` hears of each failed row, `on_batch` of the running counts after each batch.
    A batch also ends early once its rows hold four rows' worth of the row limit, so memory
    stays a small multiple of `limits.max_row_chars` whatever the file."""
    now = (clock or (lambda: datetime.now(UTC)))()
    rows = bounded_rows(stream, limits)
    header = _header(rows, limits)
    run = _Import(app, header, ErrorFile(errors, header), on_error)
    result = Counts()
    most_chars = 4 * limits.max_row_chars
    number = 1
    try:
        for cells in rows:
            number += 1
            if isinstance(cells, TooLarge):
                message = over_limit(limits, "max_row_chars", f"line {cells.line}: the row is")
                message += "; not read, so no cell is copied here"
                run.add(RowError(number, "ROW_TOO_LARGE", message), [])
                continue
            if not "".join(cells).strip():
                continue  # blank lines (every cell empty or spaces)
            parsed = read_row(header, cells, number, source=source, effective_at=now,
                              recorded_at=now, limits=limits)  # fmt: skip
            run.add(parsed, cells)
            if len(run.batch) >= rows_per_batch or run.batch_chars >= most_chars:
                result += run.flush()
                if on_batch is not None:
                    on_batch(result)
    except Unreadable as stop:
        raise ImportStopped(result + run.flush(), stop.line, stop.reason) from stop
    return result + run.flush()


def _header(rows: Iterator[list[str] | TooLarge], limits: CsvLimits) -> Header:
    try:
        first = next(rows, None)
    except Unreadable as error:
        raise HeaderError(f"not a readable CSV file ({error.reason})") from error
    if first is None:
        raise HeaderError("the file is empty: no header row")
    if isinstance(first, TooLarge):
        raise HeaderError(over_limit(limits, "max_row_chars", "the header row is"))
    return read_header(first, limits)


class _Import:
    """One import's pending batch (rows in order, errors too), decided and counted at once."""

    def __init__(
        self,
        app: EngageApplication,
        header: Header,
        error_file: ErrorFile,
        on_error: Callable[[RowError], None] | None,
    ) -> None:
        self.app, self.header, self.error_file, self.on_error = app, header, error_file, on_error
        self.batch: list[tuple[RowChanges | RowError, list[str]]] = []
        self.batch_chars = 0

    def add(self, parsed: RowChanges | RowError, cells: list[str]) -> None:
        self.batch.append((parsed, cells))
        self.batch_chars += sum(map(len, cells))

    def fail(self, error: RowError, cells: Sequence[str]) -> None:
        self.error_file.add(error, cells)
        if self.on_error is not None:
            self.on_error(error)

    def flush(self) -> Counts:
        """Apply the batch's changes in one save and count each row."""
        changes = [
            c for parsed, _ in self.batch if isinstance(parsed, RowChanges) for c in parsed.changes
        ]
        events = iter(self.app.change_consent(changes))
        counts = dict.fromkeys(("applied", "partial", "unchanged", "rejected"), 0)
        for parsed, cells in self.batch:
            if isinstance(parsed, RowError):
                self.fail(parsed, cells)
                counts["rejected"] += 1
            else:
                counts[self.outcome(parsed, cells, [next(events) for _ in parsed.changes])] += 1
        done = Counts(received=len(self.batch), **counts)
        self.batch.clear()
        self.batch_chars = 0
        return done

    def outcome(self, parsed: RowChanges, cells: list[str], decided: list[ConsentEvent]) -> str:
        """What a row did: applied, unchanged, rejected, or partial (some cells refused)."""
        refused = first_refusal(decided)
        if refused is None:
            return "applied" if changed_anything(decided) else "unchanged"
        message = _MESSAGES[refused.value]
        accepted = _accepted_cells(parsed, decided)
        if not accepted:
            self.fail(RowError(parsed.row_number, refused.value, message), cells)
            return "rejected"
        # what was accepted is named, and blanked so the fixed file re-imported does not
        # apply it again (a blank cell never overwrites); the same file again says the same
        named = ", ".join(f"{self.header.columns[p]}={cells[p].strip()}" for p in accepted)
        message += f"; accepted, and blanked here: {named}"
        left = ["" if i in accepted else c for i, c in enumerate(cells)]
        self.fail(RowError(parsed.row_number, refused.value, message), left)
        return "partial"


_MESSAGES = {
    "UNABLE_TO_SUBSCRIBE": "the user sent STOP; only the user's START can resubscribe",
    "GLOBAL_STATE_NOT_SUBSCRIBED": "the address's email channel is not subscribed, so its "
    "groups cannot be changed",
}
