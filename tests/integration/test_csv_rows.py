"""Reading CSV rows within the row limit: rows under it read exactly as Python's csv module
reads them, and a row over it (one long line, or a long quoted cell over many lines) becomes
one `TooLarge` without ever being held, the rows after it read as usual."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from adapters.imports.csv_rows import TooLarge, bounded_rows
from engage_core.consent.csv_format import CsvLimits

LIMIT = CsvLimits(max_row_chars=40)
# cells without the quote-then-formula shape the reader unescapes (tested on their own)
plain = st.text(st.characters(exclude_characters="'", exclude_categories=["Cs"]), max_size=8)


def text_of(rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue()


def read(text: str, limits: CsvLimits = LIMIT) -> list[list[str] | TooLarge]:
    return list(bounded_rows(io.StringIO(text, newline=""), limits))


@given(st.lists(st.lists(plain, min_size=1, max_size=4), max_size=6))
def test_rows_under_the_limit_read_as_the_csv_module_reads_them(rows: list[list[str]]) -> None:
    text = text_of(rows)
    expected = list(csv.reader(io.StringIO(text, newline="")))
    assert read(text, CsvLimits()) == expected


@given(
    st.lists(st.lists(plain, min_size=1, max_size=3), max_size=4),
    st.lists(st.lists(plain, min_size=1, max_size=3), max_size=4),
    st.sampled_from(["x" * 500, "a," * 300, "multi\nline\r\n" * 50, '"quoted"' * 80]),
)
def test_a_row_over_the_limit_is_one_row_and_the_rest_read_on(
    before: list[list[str]], after: list[list[str]], huge: str
) -> None:
    before = [r for r in before if len(text_of([r])) <= LIMIT.max_row_chars]
    after = [r for r in after if len(text_of([r])) <= LIMIT.max_row_chars]
    rows = read(text_of([*before, ["me@example.com", huge], *after]))
    lines = len(io.StringIO(text_of(before), newline="").readlines())  # \r, \n or \r\n each
    assert rows == [*before, TooLarge(lines + 1), *after]


def test_a_huge_single_line_is_read_past_in_pieces() -> None:
    class Counting(io.StringIO):
        biggest = 0

        # typeshed's StringIO inherits readline from both a str base and a bytes base and
        # ignores the clash itself; any override inherits that one clash (the return type)
        def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
            assert size is not None  # never a whole line, however long
            assert size > 0
            piece = super().readline(size)
            Counting.biggest = max(Counting.biggest, len(piece))
            return piece

    text = "a,b\n" + "c" * 1_000_000 + "\nd,e\n"
    assert list(bounded_rows(Counting(text, newline=""), LIMIT)) == [
        ["a", "b"], TooLarge(2), ["d", "e"],
    ]  # fmt: skip
    assert Counting.biggest <= 64 * 1024
