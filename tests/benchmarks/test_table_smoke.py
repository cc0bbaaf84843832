"""The benchmark table's plumbing, at tiny sizes: `python -m benchmarks --table --json` prints
one object per row with the fields CI reads, and the doc's tables are replaced between their
markers only. Figures are not checked: timings on a shared machine are noise at this size."""

from __future__ import annotations

import json

import pytest

from benchmarks.__main__ import main
from benchmarks.report import replace_between
from benchmarks.scaling import measure

FIELDS = {"workload", "figure", "unit", "baseline", "ratio", "goal", "met"}


def test_table_json_has_one_object_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--table", "--quick", "--json", "--only", "ingest",
                 "--observations", "1000", "--repeats", "1"])  # fmt: skip
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["workload"] for row in rows] == ["ingest"]
    (row,) = rows
    assert row.keys() >= FIELDS
    assert row["unit"] == "events/s"
    assert row["goal"] == 0.4
    assert row["figure"] > 0
    assert row["baseline"] > 0
    assert row["ratio"] == pytest.approx(row["figure"] / row["baseline"], rel=0.01)
    assert row["met"] is (row["ratio"] >= row["goal"])


def test_scaling_runs_each_size_in_a_fresh_process() -> None:
    (verdict,) = measure((200, 400), ["consent"])
    assert [point.inputs for point in verdict.points] == [200, 400]
    assert all(point.peak_kib > 0 and point.events > 0 for point in verdict.points)
    assert set(verdict.as_json()) >= {"us_per_input", "peak_mib", "linear", "flat_memory"}


def test_only_the_text_between_the_markers_is_replaced() -> None:
    doc = "intro\n<!-- t:start -->\nold\n<!-- t:end -->\nrest\n"
    assert (
        replace_between(doc, "t", "new") == "intro\n<!-- t:start -->\nnew\n<!-- t:end -->\nrest\n"
    )
    with pytest.raises(ValueError, match="not found"):
        replace_between("no markers", "t", "new")
