"""The "consent" benchmark runs end to end at a tiny size. Structure only: speed and memory are
measured by `python -m benchmarks`, never asserted here (timings on a shared VM are noise)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import consent_csv, consent_import
from benchmarks.consent_import import RAW, SUBJECT

ROWS = 300


def test_the_workload_runs_and_its_figures_are_all_there() -> None:
    done, text = consent_import.run(rows=ROWS, seed=1, repeats=1)

    assert set(done.result.rates) == {SUBJECT, RAW}
    assert all(len(rates) == 1 and rates[0] > 0 for rates in done.result.rates.values())
    generated = done.generated
    assert generated.rows == ROWS
    assert generated.bad_rows > 0  # the seed's 300 rows include bad ones: the error path ran
    (imported,) = done.imports
    assert imported.received == ROWS
    assert imported.applied + imported.unchanged + imported.rejected == ROWS
    assert imported.rejected == generated.bad_rows
    assert done.stored_events[0] >= imported.applied  # at least one event per applied row

    small, large = done.memory
    assert (small.rows, large.rows) == (ROWS // 10, ROWS)
    assert small.result.received == ROWS // 10
    assert large.result == imported  # the same file, the same outcome
    assert all(0 < m.before_kib <= m.peak_kib for m in done.memory)
    assert "rows/s" in text
    assert "peak RSS" in text
    assert "MISMATCH" not in text


def test_a_smaller_file_of_the_same_seed_is_the_start_of_a_bigger_one(tmp_path: Path) -> None:
    small = consent_csv.write_csv(tmp_path / "small.csv", rows=50, seed=3)
    large = consent_csv.write_csv(tmp_path / "large.csv", rows=500, seed=3)
    small_lines = small.path.read_text().splitlines()
    assert large.path.read_text().splitlines()[: len(small_lines)] == small_lines
    assert len(small_lines) == 51  # the header and every row
