"""Engage as a user gets it: the sdist carries the docs and the payloads the README's commands
read, the wheel built from that sdist carries the licence and `py.typed` for both packages, and
the wheel installed into a fresh virtualenv, bare or with each extra, runs `engage --help` and
`engage demo`.

The fast path (every `make test`) installs from the distributions already installed beside the
tests, offline (tests/packaging/build.py); under HYPOTHESIS_PROFILE=slow (`make test-slow`)
each extra is also installed the way a user installs it, from the package index."""

from __future__ import annotations

import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import orjson
import pytest

from tests.packaging.build import (
    build,
    build_env,
    copy_source,
    new_env,
    offline_env,
    pip,
    run,
    wheel_requirements,
)

SLOW = os.environ.get("HYPOTHESIS_PROFILE") == "slow"
EXTRAS = {"": set(), "postgres": {"postgres"}, "server": {"server"}, "testing": {"testing"}}
# what each extra adds that the bare install lacks
EXTRA_IMPORTS = {
    "postgres": "psycopg", "server": "starlette, uvicorn", "testing": "hypothesis, pytest",
}  # fmt: skip
README_PAYLOAD = "tests/providers/payloads/sendgrid/all_events.json"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(sdist, wheel, unpacked sdist): the sdist from a copy of the source, the wheel from the
    unpacked sdist, so the wheel proves the sdist is enough to build Engage."""
    tmp = tmp_path_factory.mktemp("packaging")
    python = build_env(tmp / "build-env")
    sdist = build(python, copy_source(tmp / "source"), "build_sdist", tmp / "dist")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp / "unpacked", filter="data")
    unpacked = tmp / "unpacked" / sdist.name.removesuffix(".tar.gz")
    wheel = build(python, unpacked, "build_wheel", tmp / "dist")
    return sdist, wheel, unpacked


def test_the_sdist_carries_the_docs_payloads_and_licence(built: tuple[Path, Path, Path]) -> None:
    _, _, unpacked = built
    root = Path(__file__).resolve().parents[2]
    for wanted in [*root.glob("docs/**/*.md"), *root.glob("tests/providers/payloads/**/*.*")]:
        assert (unpacked / wanted.relative_to(root)).read_bytes() == wanted.read_bytes()
    assert (unpacked / README_PAYLOAD).is_file()  # the README's three-command walk-through
    assert "MIT License" in (unpacked / "LICENSE").read_text()
    assert not (unpacked / "tests" / "conftest.py").exists()  # the fixtures, not the suite


def test_the_wheel_carries_licence_types_and_metadata(built: tuple[Path, Path, Path]) -> None:
    _, wheel, _ = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read("engage_core-0.1.0.dist-info/METADATA").decode()
        licence = archive.read("engage_core-0.1.0.dist-info/licenses/LICENSE").decode()
    assert {"engage_core/py.typed", "adapters/py.typed"} <= names
    assert not any(name.startswith("tests/") for name in names)
    assert "Copyright (c) 2026 The Engage authors" in licence
    assert "License-Expression: MIT" in metadata.splitlines()
    urls = {line.split(", ")[0] for line in metadata.splitlines() if line.startswith("Project-URL")}
    assert urls == {f"Project-URL: {k}" for k in ("Homepage", "Documentation", "Source", "Issues")}
    for extra in ("postgres", "server", "testing", "dev"):
        assert f"Provides-Extra: {extra}" in metadata.splitlines()
    assert any(r.name == "hypothesis" and r.marker for r in wheel_requirements(wheel))


def _runs_engage(python: Path, work: Path, extra: str) -> None:
    """`engage --help` and `engage demo --messages 20` from the venv, outside the checkout, and
    the packages imported are the venv's own, typed, with the extra's imports there or not."""
    engage = python.parent / "engage"
    assert "subscriptions" in run(engage, "--help", cwd=work)
    out = run(engage, "--store", f"sqlite:///{work / 'demo.db'}", "demo", "--messages", "20",
              cwd=work)  # fmt: skip
    assert "Engage demo: 20 simulated messages" in out
    assert "rejected 0" in out
    assert (work / "demo.db").stat().st_size > 0
    where = run(python, "-c", "import engage_core, adapters; print(engage_core.__file__); "
                "print(adapters.__file__)", cwd=work).split()  # fmt: skip
    for module in where:
        assert Path(module).is_relative_to(python.parent.parent), module
        assert (Path(module).parent / "py.typed").is_file()
    for name, imports in EXTRA_IMPORTS.items():
        probe = [str(python), "-c", f"import {imports}"]
        if name == extra:
            run(*probe, cwd=work)
        elif not SLOW:  # a networked install may bring one extra's module in with another's
            assert subprocess.run(probe, cwd=work, capture_output=True).returncode != 0, name


@pytest.mark.parametrize("extra", sorted(EXTRAS), ids=lambda e: e or "no-extra")
def test_the_wheel_runs_from_a_fresh_venv(
    built: tuple[Path, Path, Path], tmp_path: Path, extra: str
) -> None:
    _, wheel, _ = built
    python = offline_env(tmp_path / "venv", wheel, EXTRAS[extra])
    (tmp_path / "work").mkdir()
    _runs_engage(python, tmp_path / "work", extra)
    if extra == "testing":
        _runs_the_testing_plugin(python, tmp_path / "work")


# a user's test of their own, using the plugin's fixture and the shipped strategies
PLUGIN_TEST = """
from hypothesis import given, settings
from engage_core.testing import lifecycles


@settings(max_examples=5, deadline=None)
@given(lifecycles(end="delivered"))
def test_walks(walk):
    assert "delivered" in [report.status for report in walk]


def test_fixture(engage_app):
    from engage_core import Send
    assert engage_app.record_send(Send.create("sms", "twilio", "SM1")).status == "processed"
"""


def _runs_the_testing_plugin(python: Path, work: Path) -> None:
    """engage_core.testing imports, and pytest finds the plugin's `engage_app` by itself."""
    run(python, "-c", "import engage_core.testing as t; t.EngageModel; t.twilio_callbacks",
        cwd=work)  # fmt: skip
    (work / "test_user.py").write_text(PLUGIN_TEST)
    out = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py", cwd=work)
    assert "2 passed" in out, out


def test_the_readme_walk_through_runs_from_the_sdist(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, wheel, unpacked = built
    engage = offline_env(tmp_path / "venv", wheel, set()).parent / "engage"
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    out = run(engage, "--store", store, "ingest", "sendgrid", unpacked / README_PAYLOAD,
              "--no-verify", cwd=tmp_path)  # fmt: skip
    assert orjson.loads(out.splitlines()[-1])["rejected"] == 0
    events = run(engage, "--store", store, "events", "--limit", "3", cwd=tmp_path)
    assert len(events.splitlines()) == 3


@pytest.mark.skipif(not SLOW, reason="installs from the package index: make test-slow")
@pytest.mark.parametrize("extra", sorted(EXTRAS), ids=lambda e: e or "no-extra")
def test_the_wheel_installs_from_the_index_with_each_extra(
    built: tuple[Path, Path, Path], tmp_path: Path, extra: str
) -> None:
    _, wheel, _ = built
    python = new_env(tmp_path / "venv")
    pip(python, "install", "--quiet", f"{wheel}[{extra}]" if extra else wheel)
    (tmp_path / "work").mkdir()
    _runs_engage(python, tmp_path / "work", extra)


def test_the_readme_names_the_wheel_and_extras_as_built(built: tuple[Path, Path, Path]) -> None:
    _, wheel, unpacked = built
    readme = (unpacked / "README.md").read_text()
    assert f"pip install '{wheel.name}[postgres]'" in readme
    for extra in EXTRA_IMPORTS:
        assert f"`{extra}`:" in readme
