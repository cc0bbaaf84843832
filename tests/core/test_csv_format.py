"""Segment's subscription CSV, judged header by header and row by row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engage_core.consent.changes import ChannelChange, GroupChange
from engage_core.consent.contacts import SubscriptionChannel
from engage_core.consent.csv_format import HeaderError, RowChanges, RowError, read_header, read_row
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
    assert (first.contact.channel, first.contact.key) == (SubscriptionChannel.EMAIL,
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
