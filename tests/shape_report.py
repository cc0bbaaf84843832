"""The shape limits of the code, measured with radon: modules of at most 400 lines, functions
of at most 60 lines and cyclomatic complexity at most 15.

`make lint` prints every offender in the packages it is given (`python -m tests.shape_report
engage_core adapters benchmarks tests`); `tests/test_shape.py` holds `engage_core` to the limits.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
from radon.complexity import cc_visit  # type: ignore[import-untyped]
from radon.visitors import Function  # type: ignore[import-untyped]

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 15


@attrs.frozen
class Offence:
    path: str
    line: int
    what: str  # the module, or the function's qualified name
    measure: str  # "lines" or "complexity"
    value: int
    limit: int

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: {self.what}"
        return f"{where}: {self.value} {self.measure} (limit {self.limit})"


def _functions(blocks: Iterable[object]) -> Iterator[Function]:
    for block in blocks:
        if isinstance(block, Function):
            yield block
        yield from _functions(getattr(block, "methods", ()))
        yield from _functions(getattr(block, "closures", ()))


def offences_in(path: Path) -> list[Offence]:
    """Every limit `path` exceeds."""
    source = path.read_text(encoding="utf-8")
    found: list[Offence] = []
    lines = source.count("\n") + (not source.endswith("\n") and bool(source))
    if lines > MAX_MODULE_LINES:
        found.append(Offence(str(path), 1, path.stem, "lines", lines, MAX_MODULE_LINES))
    for function in _functions(cc_visit(source)):
        name = f"{function.classname}.{function.name}" if function.classname else function.name
        length = function.endline - function.lineno + 1
        if length > MAX_FUNCTION_LINES:
            found.append(
                Offence(str(path), function.lineno, name, "lines", length, MAX_FUNCTION_LINES)
            )
        if function.complexity > MAX_COMPLEXITY:
            found.append(
                Offence(str(path), function.lineno, name, "complexity", function.complexity,
                        MAX_COMPLEXITY)
            )  # fmt: skip
    return found


def offences(roots: Iterable[str | Path]) -> list[Offence]:
    """Every limit exceeded in the Python files under `roots`, in path order."""
    found: list[Offence] = []
    for root in map(Path, roots):
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            found.extend(offences_in(path))
    return found


def main(argv: list[str]) -> int:
    found = offences(argv or ["engage_core"])
    for offence in found:
        print(offence)
    print(f"{len(found)} over the shape limits" if found else "every module within the limits")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
