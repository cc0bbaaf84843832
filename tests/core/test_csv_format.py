"""Segment's subscription CSV, judged header by header and row by row; the error file's cell
escaping; the size limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, GroupChange
from engage_core.consent.csv_format import (
    FORMULA_STARTS,
    CsvLimits,
    CsvLimitSettingError,
    HeaderError,
    RowChanges,
    RowError,
    escape_cell,
    read_header,
    read_row,
    unescape_cell,
)
from engage_core.consent.rules import SubscriptionStatus

AT = datetime(2026, 3, 1, tzinfo=UTC)
HEADER = ["Email", "phone", "email_subscription_status", "SMS_subscription_status",
          "whatsapp_subscription_status", "newsletter_subscription_status",
          "marketing updates_subscription_status"]  # fmt: skip


def row(cells: list[str], number: int = 2) -> RowChanges | RowError:
    return read_row(read_header(HEADER), cells, number, source="subs.csv", effective_at=AT,
                    recorded_at=AT)  # fmt: skip


def test_a_full_row_becomes_channel_then_group_changes() -> None:
    result = row(["Jane@Example.com", "(213) 561-8345", "Subscribed", "unsubscribed",
                  "did-not-subscribe", "SUBSCRIBED", "did_not_subscribe"])  # fmt: skip
    assert isinstance(result, RowChanges)
    kinds = [type(c) for c in result.changes]
    assert kinds == [ChannelChange, ChannelChange, ChannelChange, GroupChange, GroupChange]
    first = result.changes[0]
    assert isinstance(first, ChannelChange)
    assert (first.contact.channel, first.contact.key) == (Channel.EMAIL,
                                                          "jane@example.com")  # fmt: skip
    groups = [c for c in result.changes if isinstance(c, GroupChange)]
    assert [(g.group, g.update.status) for g in groups] == [
        ("newsletter", SubscriptionStatus.SUBSCRIBED),
        ("marketing updates", SubscriptionStatus.DID_NOT_SUBSCRIBE),
    ]
    # file, padded row (so rows sort in file order), and a digest of what the row says
    assert first.update.provenance.source_id.startswith("subs.csv:000000002:")


def test_blank_cells_change_nothing_and_need_no_identifier() -> None:
    result = row(["", "+12135618345", "", "subscribed", "", "", ""])
    assert isinstance(result, RowChanges)
    assert len(result.changes) == 1  # the email column is blank, and nothing needed it


@pytest.mark.parametrize(
    ("cells", "code"),
    [
        (["not-an-email", "", "subscribed", "", "", "", ""], "INVALID_EMAIL"),
        (["", "", "", "", "", "subscribed", ""], "INVALID_EMAIL"),  # a group needs an address
        (["", "hello", "", "subscribed", "", "", ""], "INVALID_PHONE"),
        (["a@example.com", "", "maybe", "", "", "", ""], "INVALID_SUBSCRIPTION_STATUS"),
        (["a@example.com", ""], "INVALID_ROW"),
    ],
)
def test_each_bad_row_gets_its_code(cells: list[str], code: str) -> None:
    result = row(cells, 7)
    assert isinstance(result, RowError)
    assert (result.row_number, result.error_code) == (7, code)
    assert result.error_message


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        (["email", "email_subscription_status", "colour"], "unknown column"),
        (["email", "EMAIL", "email_subscription_status"], "appears twice"),
        (["phone", "newsletter_subscription_status"], "need an `email` column"),
        (["email", "sms_subscription_status"], "need a `phone` column"),
        (["email", "phone"], "nothing to import"),
        (["email", "news-letter_subscription_status"], "contains"),
    ],
)
def test_header_problems_stop_the_file(columns: list[str], words: str) -> None:
    with pytest.raises(HeaderError, match=words):
        read_header(columns)


# Cells the error file writes: never a formula, always read back the same


@given(st.text())
def test_escaping_a_cell_is_undone_by_reading_it(cell: str) -> None:
    written = escape_cell(cell)
    assert unescape_cell(written) == cell
    assert not written.startswith(FORMULA_STARTS)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+12135618345", "'+12135618345"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),  # already looks escaped: escaped again, so reading takes one off
        ("''+1", "'''+1"),
        ("'quoted", "'quoted"),  # a leading ' before anything else is left alone
        ("jane@example.com", "jane@example.com"),
        ("", ""),
    ],
)
def test_formula_starts_are_written_behind_a_quote(cell: str, written: str) -> None:
    assert escape_cell(cell) == written
    assert unescape_cell(written) == cell


# Limits


def test_a_header_over_the_column_limit_stops_the_file() -> None:
    limits = CsvLimits(max_columns=3)
    read_header(["email", "phone", "email_subscription_status"], limits)
    with pytest.raises(
        HeaderError, match=r"4 columns, over the limit of 3 \(ENGAGE_CSV_MAX_COLUMNS\)"
    ):
        read_header([*HEADER[:3], "sms_subscription_status"], limits)


def test_a_cell_over_the_cell_limit_fails_its_row_naming_the_column_and_the_limit() -> None:
    limits = CsvLimits(max_cell_chars=20)
    header = read_header(HEADER)
    cells = ["a@example.com", "", "subscribed", "", "", "x" * 21, ""]
    result = read_row(header, cells, 5, source="s.csv", effective_at=AT, recorded_at=AT,
                      limits=limits)  # fmt: skip
    assert isinstance(result, RowError)
    assert (result.row_number, result.error_code) == (5, "CELL_TOO_LARGE")
    assert "'newsletter_subscription_status': 21 characters" in result.error_message
    assert "over the limit of 20 (ENGAGE_CSV_MAX_CELL_CHARS)" in result.error_message
    cells[5] = "x" * 20  # at the limit: judged as usual
    judged = read_row(header, cells, 5, source="s.csv", effective_at=AT, recorded_at=AT,
                      limits=limits)  # fmt: skip
    assert isinstance(judged, RowError)
    assert judged.error_code == "INVALID_SUBSCRIPTION_STATUS"


def test_limits_come_from_the_environment_with_sensible_defaults() -> None:
    assert CsvLimits.from_environment({}) == CsvLimits(1_000, 64 * 1024, 1024 * 1024)
    given = CsvLimits.from_environment(
        {"ENGAGE_CSV_MAX_COLUMNS": " 50 ", "ENGAGE_CSV_MAX_CELL_CHARS": "",
         "ENGAGE_CSV_MAX_ROW_CHARS": "4096"}
    )  # fmt: skip
    assert given == CsvLimits(50, 64 * 1024, 4096)
    for value, words in [
        ("lots", "a whole number"),
        ("0", "a whole number from 1 to 100000"),
        (str(2**63), "a whole number from 1 to 100000"),
    ]:
        with pytest.raises(CsvLimitSettingError, match=f"ENGAGE_CSV_MAX_COLUMNS: {words}"):
            CsvLimits.from_environment({"ENGAGE_CSV_MAX_COLUMNS": value})


def test_row_changes_say_which_cell_each_change_came_from() -> None:
    result = row(["a@example.com", "+12135618345", "", "subscribed", "", "subscribed", ""])
    assert isinstance(result, RowChanges)
    assert result.positions == (3, 5)  # SMS, then the newsletter group
