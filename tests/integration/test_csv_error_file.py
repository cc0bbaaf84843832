"""The CSV error file through the real importer: whatever the failed rows hold, no cell it
writes starts like a spreadsheet formula, and importing it reads every cell back as it was;
rows refused in part say which cells were accepted and are counted `partial`."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.imports.csv_rows import bounded_rows
from adapters.imports.subscriptions_csv import import_subscriptions
from adapters.stores import open_application
from engage_core.consent.contacts import ContactKey
from engage_core.consent.csv_format import DEFAULT_CSV_LIMITS, FORMULA_STARTS, RowError
from engage_core.consent.rules import SubscriptionStatus
from engage_core.observations import InvalidInput

HEADER = ["email", "phone", "email_subscription_status", "sms_subscription_status"]
DATA = slice(3, None)  # an error file's own cells, after row_number, error_code, error_message


def _not_a_status(text: str) -> bool:
    try:
        SubscriptionStatus.parse(text.strip())
    except InvalidInput:
        return bool(text.strip())
    return False


# cells a spreadsheet would run, cells that look escaped already, and anything at all
tricky = st.sampled_from(["=1+1", "+12135618345", "-2", "@A1", "\t=x", "\r=x", "'=x", "''+1", "'a"])
cells = tricky | st.text(max_size=12)
failing_rows = st.lists(
    st.tuples(
        cells, cells, (tricky | st.text(min_size=1, max_size=12)).filter(_not_a_status), cells
    ),
    min_size=1,
    max_size=8,
)


def as_csv(header: list[str], body: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def read(text: str) -> list[list[str]]:
    """A file's rows as the importer reads them (escapes taken off)."""
    rows = list(bounded_rows(io.StringIO(text, newline=""), DEFAULT_CSV_LIMITS))
    assert all(isinstance(row, list) for row in rows)
    return [row for row in rows if isinstance(row, list)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(failing_rows)
def test_the_error_file_is_formula_free_and_reimports_to_the_same_cells(
    body: list[tuple[str, ...]],
) -> None:
    app = open_application("memory://")
    source = as_csv(HEADER, [list(r) for r in body])
    meant = read(source)[1:]  # what each row's cells are, as the importer takes them
    errors = io.StringIO(newline="")
    first = import_subscriptions(
        app, io.StringIO(source, newline=""), source="s.csv", errors=errors
    )
    assert first.rejected == first.received == len(meant)  # each row has a bad email status

    written = errors.getvalue()
    raw = list(csv.reader(io.StringIO(written, newline="")))
    assert not [cell for row in raw for cell in row if cell.startswith(FORMULA_STARTS)]
    assert [row[DATA] for row in read(written)[1:]] == meant

    again = io.StringIO(newline="")
    second = import_subscriptions(
        app, io.StringIO(written, newline=""), source="e.csv", errors=again
    )
    assert second.rejected == second.received == len(meant)
    assert [row[DATA] for row in read(again.getvalue())[1:]] == meant


def test_a_row_refused_in_part_says_which_cells_were_accepted() -> None:
    app = open_application("memory://")
    source = (
        "email,email_subscription_status,news_subscription_status\n"
        "a@example.com,unsubscribed,subscribed\n"  # the channel applies, then refuses the group
        "b@example.com,subscribed,subscribed\n"
    )
    errors = io.StringIO(newline="")
    heard: list[RowError] = []
    result = import_subscriptions(
        app, io.StringIO(source), source="s.csv", errors=errors, on_error=heard.append
    )
    assert (result.received, result.applied, result.partial, result.rejected) == (2, 1, 1, 0)
    (error,) = heard
    assert error.error_code == "GLOBAL_STATE_NOT_SUBSCRIBED"
    assert (
        "accepted, and blanked here: email_subscription_status=unsubscribed" in error.error_message
    )
    (record,) = csv.DictReader(io.StringIO(errors.getvalue()))
    assert (record["email"], record["email_subscription_status"]) == ("a@example.com", "")
    assert record["news_subscription_status"] == "subscribed"  # what was refused, to fix

    email = ContactKey.parse("EMAIL", "a@example.com")
    channel = app.channel_subscription(email)
    assert channel is not None
    assert channel.current.status is SubscriptionStatus.UNSUBSCRIBED
    updates = len(channel.updates)
    # re-imported as it is, the error file does not apply the accepted cell again
    retried = import_subscriptions(app, io.StringIO(errors.getvalue()), source="errors.csv")
    assert (retried.received, retried.rejected, retried.partial) == (1, 1, 0)
    channel = app.channel_subscription(email)
    assert channel is not None
    assert len(channel.updates) == updates
    # the same file again: the row is refused in part again, so its error file is the same
    again = io.StringIO(newline="")
    same = import_subscriptions(app, io.StringIO(source), source="s.csv", errors=again)
    assert (same.partial, same.unchanged) == (1, 1)
    assert again.getvalue() == errors.getvalue()
