"""`engage subscriptions import`: every error code, blanks, case variants, groups, a header
problem, the error file fixed and re-imported, and the same file twice (issue 3)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from tests.cli.test_cli import engage, lines

CSV = """\
Email,Phone,email_subscription_status,sms_subscription_status,Newsletter_subscription_status
jane@example.com,(213) 561-8345,Subscribed,subscribed,SUBSCRIBED
bad-email,,subscribed,,
bob@example.com,,,,subscribed
,hello,,subscribed,
carl@example.com,,maybe,,
,+12135618346,,subscribed,
,,,,

dana@example.com,,DID-NOT-SUBSCRIBE,,
"""


def test_a_file_with_every_kind_of_row(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    inbound_stop = {"From": "+12135618346", "Body": "STOP"}
    stop = lines({"channel": "sms", "provider": "twilio", "provider_message_id": "in1",
                  "status": "received", "details": inbound_stop})  # fmt: skip
    assert engage("--store", store, "observe", "-", stdin=stop).returncode == 0
    source = tmp_path / "subs.csv"
    source.write_text(CSV)
    errors = tmp_path / "errors.csv"

    first = engage(
        "--store", store, "subscriptions", "import", str(source), "--errors", str(errors)
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "received": 7,
        "applied": 2,
        "partial": 0,
        "unchanged": 0,
        "rejected": 5,
        "duplicates": 0,
        "late": 0,
        "conflicts": 0,
        "quarantined": 0,
    }
    with errors.open(newline="") as handle:
        failed = list(csv.DictReader(handle))
    assert [(r["row_number"], r["error_code"]) for r in failed] == [
        ("3", "INVALID_EMAIL"),
        ("4", "GLOBAL_STATE_NOT_SUBSCRIBED"),
        ("5", "INVALID_PHONE"),
        ("6", "INVALID_SUBSCRIPTION_STATUS"),
        ("7", "UNABLE_TO_SUBSCRIBE"),
    ]
    assert failed[0]["Email"] == "bad-email"  # the original columns, ready to fix
    assert "Traceback" not in first.stderr

    again = engage("--store", store, "subscriptions", "import", str(source))
    assert json.loads(again.stdout)["applied"] == 0  # the same file changes nothing

    fixes = {"3": ("Email", "bad@example.com"), "5": ("Phone", "+12135618347"),
             "6": ("email_subscription_status", "unsubscribed")}  # fmt: skip
    fixed = tmp_path / "fixed.csv"
    with errors.open(newline="") as handle, fixed.open("w", newline="") as out:
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for record in reader:
            if record["row_number"] in fixes:
                column, value = fixes[record["row_number"]]
                record[column] = value
                writer.writerow(record)
    retried = engage("--store", store, "subscriptions", "import", str(fixed))
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {
        "received": 3,
        "applied": 3,
        "partial": 0,
        "unchanged": 0,
        "rejected": 0,
        "duplicates": 0,
        "late": 0,
        "conflicts": 0,
        "quarantined": 0,
    }


def test_a_broken_header_applies_nothing(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    for name, content in [
        ("unknown.csv", "email,email_subscription_status,colour\na@example.com,subscribed,red\n"),
        ("twice.csv", "email,EMAIL,email_subscription_status\n"),
        ("empty.csv", ""),
    ]:
        path = tmp_path / name
        path.write_text(content)
        result = engage("--store", store, "subscriptions", "import", str(path))
        assert result.returncode == 1
        assert "nothing was applied" in result.stderr
        assert "Traceback" not in result.stderr
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    result = engage("--store", store, "subscriptions", "import", str(binary))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_later_rows_do_not_judge_earlier_group_changes(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    path = tmp_path / "order.csv"
    path.write_text("email,email_subscription_status,news_subscription_status\n"
                    "b@x.com,subscribed,subscribed\nb@x.com,unsubscribed,\n")  # fmt: skip
    result = engage("--store", store, "subscriptions", "import", str(path))
    assert json.loads(result.stdout)["applied"] == 2
    shown = engage("--store", store, "subscription", "email", "b@x.com", "--group", "news")
    assert json.loads(shown.stdout)["groups"] == {"news": "SUBSCRIBED"}  # as row 2 decided


def test_an_edited_file_of_the_same_name_applies(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    path = tmp_path / "weekly.csv"
    path.write_text("email,email_subscription_status\nc@x.com,subscribed\n")
    engage("--store", store, "subscriptions", "import", str(path))
    path.write_text("email,email_subscription_status\nc@x.com,unsubscribed\n")
    again = engage("--store", store, "subscriptions", "import", str(path))
    assert json.loads(again.stdout)["applied"] == 1
    check = engage("--store", store, "can-send", "email", "c@x.com")
    assert json.loads(check.stdout)["allowed"] is False


def test_a_file_unreadable_part_way_keeps_what_was_applied(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    path = tmp_path / "mid.csv"
    good = "".join(f"u{n}@x.com,subscribed\n" for n in range(1500))
    path.write_bytes(b"email,email_subscription_status\n" + good.encode() + b"\xff@x.com,x\n")
    result = engage("--store", store, "subscriptions", "import", str(path))
    assert result.returncode == 1
    assert "the rows up to it were applied" in result.stderr
    last_row = int(re.search(r"unreadable after row (\d+)", result.stderr)[1])  # type: ignore[index]
    assert 1000 < last_row <= 1501  # past the first batch; the bad byte is at row 1502
    assert json.loads(result.stdout)["applied"] == last_row - 1  # rows 2 .. last_row
    assert "Traceback" not in result.stderr
    same = engage("--store", store, "subscriptions", "import", str(path), "--errors", str(path))
    assert same.returncode == 2  # --errors must not overwrite the file being imported


def test_the_error_file_holds_no_formula_and_reads_back_the_same(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'e.db'}"
    inbound = {"From": "+12135618346", "Body": "STOP"}
    stop = lines({"channel": "sms", "provider": "twilio", "provider_message_id": "in1",
                  "status": "received", "details": inbound})  # fmt: skip
    assert engage("--store", store, "observe", "-", stdin=stop).returncode == 0
    source = tmp_path / "subs.csv"
    source.write_text(
        "email,phone,email_subscription_status,sms_subscription_status\n"
        '"=HYPERLINK(""http://evil.example"",""x"")",,subscribed,\n'
        ",+12135618346,,subscribed\n"  # refused: the number sent STOP
    )
    errors, again = tmp_path / "errors.csv", tmp_path / "again.csv"
    first = engage(
        "--store", store, "subscriptions", "import", str(source), "--errors", str(errors)
    )
    assert first.returncode == 1  # every row failed
    with errors.open(newline="") as handle:
        written = list(csv.reader(handle))
    assert [row[3:5] for row in written[1:]] == [
        ['\'=HYPERLINK("http://evil.example","x")', ""], ["", "'+12135618346"],
    ]  # fmt: skip
    assert not [c for row in written for c in row if c[:1] in {"=", "+", "-", "@", "\t", "\r"}]
    # imported as it is, the file means what the original said: the same refusals, same cells
    second = engage(
        "--store", store, "subscriptions", "import", str(errors), "--errors", str(again)
    )
    with again.open(newline="") as handle:
        rewritten = list(csv.reader(handle))
    assert [row[1:] for row in rewritten] == [row[1:] for row in written]
    assert "INVALID_PHONE" not in second.stderr  # the number read back as +12135618346
