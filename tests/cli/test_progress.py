"""The import progress bar: drawn only where asked (a terminal), never into piped output."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from adapters.cli.progress import progress_bar
from engage_core.counts import Counts


def test_a_forced_bar_draws_rows_and_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("email,email_subscription_status\n" + "a@example.com,subscribed\n" * 500)
    with (
        path.open(encoding="utf-8", newline="") as stream,
        progress_bar(stream, force=True) as advance,
    ):
        stream.read()
        advance(Counts(received=500, applied=500))
    drawn = capsys.readouterr().err
    assert "importing" in drawn
    assert "500 rows" in drawn


def test_no_terminal_no_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("email,email_subscription_status\n")
    assert not sys.stderr.isatty()
    with path.open(encoding="utf-8") as stream, progress_bar(stream) as advance:
        advance(Counts(received=1))
    assert capsys.readouterr().err == ""


def test_a_stream_without_a_file_gets_no_bar(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(io.StringIO("email\n"), force=True) as advance:
        advance(Counts(received=1))
    assert capsys.readouterr().err == ""
