"""Building Engage's sdist and wheel as a user's build would, and fresh virtualenvs to install
the wheel into, none of which touch the working tree or the shared `.venv`.

The source is copied to a temporary directory first (a build writes `build/` and
`*.egg-info` next to the sources); the builds run setuptools' PEP 517 hooks in a virtualenv of
their own holding the `[build-system]` requirements, as pip's isolated build does.

`offline_env` makes a virtualenv that sees, of the distributions already installed beside the
tests, exactly those the wheel's requirements (with the chosen extras) reach: a directory of
symlinks to them goes on its path. `pip install --no-index` of the wheel then resolves against
them, so an undeclared dependency, or one the wheel does not pull in, is missing there just as
it would be after a networked install, and nothing is downloaded.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# what a checkout holds that is no source: caches, stores, virtualenvs, earlier builds
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
    ".benchmarks", "*.db", "*.db-wal", "*.db-shm", "*.jsonl",
)  # fmt: skip


def run(*args: str | Path, cwd: Path | None = None) -> str:
    """Run a command to completion; its output, or a failure that shows what it printed."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def pip(python: Path, *args: str | Path) -> str:
    """The tests' own pip, installing into another interpreter's environment (`--python`)."""
    return run(sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check",
               *args)  # fmt: skip


def new_env(path: Path) -> Path:
    """A fresh virtualenv without pip (the tests' pip serves it); its python."""
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    return path / "bin" / "python"


def build_requirements() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        requires: list[str] = tomllib.load(file)["build-system"]["requires"]
    return requires


def build_env(path: Path) -> Path:
    """A virtualenv holding the `[build-system]` requirements, from the package index."""
    python = new_env(path)
    pip(python, "install", "--quiet", *build_requirements())
    return python


def copy_source(into: Path) -> Path:
    shutil.copytree(ROOT, into, ignore=_NOT_SOURCE)
    return into


def build(python: Path, source: Path, hook: str, out: Path) -> Path:
    """Run the setuptools PEP 517 hook `build_sdist` or `build_wheel` on `source`."""
    out.mkdir(parents=True, exist_ok=True)
    code = f"import setuptools.build_meta as b; print(b.{hook}({str(out)!r}))"
    name = run(python, "-c", code, cwd=source).strip().splitlines()[-1]
    return out / name


def _closure(requirements: list[Requirement], extras: set[str]) -> set[str]:
    """The installed distributions `requirements` reach, following their extras."""
    seen: set[str] = set()
    todo = [(r, extras) for r in requirements]
    while todo:
        requirement, active = todo.pop()
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": e}) for e in (active or {""})
        ):
            continue
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        dist = importlib.metadata.distribution(name)
        todo += [(Requirement(r), set(requirement.extras)) for r in dist.requires or []]
    return {key.split("[")[0] for key in seen}


def wheel_requirements(wheel: Path) -> list[Requirement]:
    dist = importlib.metadata.Distribution.at(_unpacked_metadata(wheel))
    return [Requirement(r) for r in dist.requires or []]


def _unpacked_metadata(wheel: Path) -> Path:
    target = wheel.parent / f"{wheel.stem}-metadata"
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.split("/")[0].endswith(".dist-info")]
        archive.extractall(target, members=names)
    return next(target.glob("*.dist-info"))


def offline_env(path: Path, wheel: Path, extras: set[str]) -> Path:
    """A virtualenv with the wheel installed (with `extras`) from the distributions already
    installed here, as described in the module docstring; its python."""
    python = new_env(path)
    shared = path / "dependencies"
    shared.mkdir()
    for name in _closure(wheel_requirements(wheel), extras):
        dist = importlib.metadata.distribution(name)
        site = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops - {"__pycache__"}:
            if not (shared / top).exists() and (site / top).exists() and not top.endswith(".pth"):
                (shared / top).symlink_to(site / top)
    site_packages = next((path / "lib").glob("python3*/site-packages"))
    (site_packages / "engage-test-dependencies.pth").write_text(f"{shared}\n")
    wanted = f"{wheel}[{','.join(sorted(extras))}]" if extras else str(wheel)
    pip(python, "install", "--quiet", "--no-index", wanted)
    return python
