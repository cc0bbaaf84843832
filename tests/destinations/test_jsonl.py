"""The JSON Lines destination: one Segment body (plus `position`) per line, rotation by size
with older files shifted and none deleted."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest

from adapters.destinations import JsonlDestination, RetryPolicy, deliver
from tests.destinations.conftest import Outbox, delivered


def read_lines(*paths: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for path in paths for line in path.read_bytes().splitlines()]


def test_one_line_per_event_with_its_position(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path
) -> None:
    entries = outbox.add(delivered(5))
    path = tmp_path / "out" / "events.jsonl"
    deliver(JsonlDestination("file", path), outbox.view, outbox.ledger, policy)
    deliver(JsonlDestination("file", path), outbox.view, outbox.ledger, policy)
    assert read_lines(path) == [{**e.body, "position": e.position} for e in entries]


def test_rotation_by_size_shifts_older_files(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    entries = []
    for start in range(0, 40, 13):  # several runs, as new events arrive
        entries += outbox.add(delivered(13, first=start))
        line = len(JsonlDestination("f", path).encode(entries[-1]))
        destination = JsonlDestination("file", path, max_bytes=10 * line, batch_size=7)
        deliver(destination, outbox.view, outbox.ledger, policy)
    rotated = sorted(tmp_path.glob("events.*.jsonl"), key=lambda p: -int(p.name.split(".")[1]))
    assert len(rotated) >= 4
    assert [p.name for p in rotated][-1] == "events.1.jsonl"
    oldest_first = [*rotated, path]
    for file in oldest_first:
        assert 0 < file.stat().st_size <= 10 * line
    for file in rotated:  # rotated only when the next line would not fit
        assert file.stat().st_size > 9 * line
    assert [line["messageId"] for line in read_lines(*oldest_first)] == [
        e.message_id for e in entries
    ]


def test_a_line_longer_than_max_bytes_gets_a_file_of_its_own(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path
) -> None:
    outbox.add(delivered(3))
    path = tmp_path / "events.jsonl"
    deliver(JsonlDestination("file", path, max_bytes=10), outbox.view, outbox.ledger, policy)
    assert len(list(tmp_path.glob("events*.jsonl"))) == 3
    assert all(len(read_lines(p)) == 1 for p in tmp_path.glob("events*.jsonl"))


def test_a_line_cut_short_by_a_crash_stays_apart(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path
) -> None:
    outbox.add(delivered(2))
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"cut": ')
    deliver(JsonlDestination("file", path), outbox.view, outbox.ledger, policy)
    broken, *good = path.read_bytes().splitlines()
    assert broken == b'{"cut": '
    assert len([orjson.loads(line) for line in good]) == 2


def test_an_unwritable_path_is_retried_then_parked(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path
) -> None:
    outbox.add(delivered(2))
    (tmp_path / "blocked").write_text("a file, not a directory")
    destination = JsonlDestination("file", tmp_path / "blocked" / "events.jsonl")
    report = deliver(destination, outbox.view, outbox.ledger, policy)
    assert report.parked == 2
    (letter,) = outbox.ledger.dead_letters()
    assert letter.reason.startswith("cannot write")
    assert letter.attempts == 5


def test_the_newline_that_repairs_a_cut_line_counts_against_max_bytes(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path
) -> None:
    (entry,) = outbox.add(delivered(1))
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"cut": ')
    line = len(JsonlDestination("f", path).encode(entry))
    # the cut line and the new one fit exactly, the repairing newline does not
    limit = len(b'{"cut": ') + line
    deliver(JsonlDestination("file", path, max_bytes=limit), outbox.view, outbox.ledger, policy)
    assert path.stat().st_size <= limit
    assert (tmp_path / "events.1.jsonl").read_bytes() == b'{"cut": \n'
    assert [row["messageId"] for row in read_lines(path)] == [entry.message_id]


def test_rotation_fsyncs_the_directory(
    outbox: Outbox, policy: RetryPolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = outbox.add(delivered(2))
    path = tmp_path / "events.jsonl"
    line = len(JsonlDestination("f", path).encode(entries[0]))
    destination = JsonlDestination("file", path, max_bytes=line, batch_size=1)
    deliver(destination, outbox.view, outbox.ledger, policy)  # the file exists now
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        synced.append("directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    outbox.add(delivered(1, first=2))
    deliver(destination, outbox.view, outbox.ledger, policy)  # rotates, then a new file
    assert (tmp_path / "events.2.jsonl").exists()
    # the renames are durable (directory), then the new file's data and its name
    assert synced == ["directory", "file", "directory"]

    synced.clear()
    quiet = JsonlDestination("file", path, max_bytes=line, batch_size=1, fsync=False)
    outbox.add(delivered(1, first=3))
    deliver(quiet, outbox.view, outbox.ledger, policy)
    assert synced == []  # fsync = false: none at all
