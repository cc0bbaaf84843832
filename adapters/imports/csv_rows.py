"""CSV rows read from a text stream in memory bounded by the row limit, not by the input.

Python's `csv.reader` asks its source for one line at a time, and a plain file would hand it a
whole line however long. Here it is handed lines read with a bounded `readline`: a row (all
the lines of its quoted line breaks) over `CsvLimits.max_row_chars` is never held: the rest
of it is read past in small pieces (to the line end where its quotes balance, so a long quoted
cell does not turn into rows of its own), and the row is reported as `TooLarge` so the importer
can count it and keep it in the error file. Cells come back unescaped (`unescape_cell`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

import attrs

from engage_core.consent.csv_format import CsvLimits, unescape_cell

_SKIP_CHUNK = 64 * 1024  # how much of an oversized line is read at a time to get past it
_LINE_ENDS = ("\n", "\r")


@attrs.frozen
class TooLarge:
    """A row over the row limit, not read; `line` is the file line it began on (from 1)."""

    line: int


class Unreadable(Exception):
    """The stream stopped decoding, or is not CSV, after `line` lines."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _RowOverLimit(Exception):
    pass


class _BoundedLines:
    """The stream's lines for `csv.reader`, refusing (with `_RowOverLimit`) a row's line once
    the row would pass the limit; `start_row` is called between rows."""

    def __init__(self, stream: TextIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._used = 0  # characters of the current row so far
        self._quoted = False  # inside a quoted cell, by the row's quotes so far
        self.lines = 0  # lines read whole so far
        self.row_line = 1  # the line the current row began on

    def start_row(self) -> None:
        self._used = 0
        self._quoted = False
        self.row_line = self.lines + 1

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        room = self._limit - self._used
        piece = self._stream.readline(room + 2)  # its content, and a two-character line end
        if not piece:
            raise StopIteration
        ended = piece.endswith(_LINE_ENDS)
        content = len(piece.rstrip("\r\n")) if ended else len(piece)
        self._quoted ^= piece.count('"') % 2 == 1
        if content > room:
            self._skip_row(ended)
            raise _RowOverLimit
        self._used += len(piece)
        self.lines += 1
        return piece

    def _skip_row(self, ended: bool) -> None:
        """Read past the rest of a row over the limit: to a line end outside quotes."""
        while not ended or self._quoted:
            if ended:
                self.lines += 1
            piece = self._stream.readline(_SKIP_CHUNK)
            if not piece:
                return
            ended = piece.endswith(_LINE_ENDS)
            self._quoted ^= piece.count('"') % 2 == 1
        self.lines += 1


def bounded_rows(stream: TextIO, limits: CsvLimits) -> Iterator[list[str] | TooLarge]:
    """Each row's cells (unescaped), or `TooLarge` for a row over the row limit; `Unreadable`
    when the stream stops decoding or parsing part-way."""
    # a field can be no longer than its row, and the row limit is ours to apply: csv's own
    # field limit (process-wide) is raised to it when lower, never lowered
    if csv.field_size_limit() < limits.max_row_chars + 2:
        csv.field_size_limit(limits.max_row_chars + 2)
    lines = _BoundedLines(stream, limits.max_row_chars)
    reader = csv.reader(lines)
    while True:
        lines.start_row()
        try:
            row = next(reader)
        except StopIteration:
            return
        except _RowOverLimit:
            yield TooLarge(lines.row_line)
            continue
        except (csv.Error, UnicodeDecodeError) as error:
            raise Unreadable(lines.lines, f"not readable as CSV ({error})") from error
        yield [unescape_cell(cell) for cell in row]
