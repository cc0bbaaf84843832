"""`FIND` explores the same examples whatever ran before it in the process, so whether a
strength test's budget finds a broken engine does not depend on the order tests run in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
# the examples a FIND run draws, digested; after importing `before` (as an earlier test would)
PROBE = """
import hashlib
{before}
from hypothesis import given, settings
from engage_core.testing import lifecycles
from tests.testing.properties import FIND

seen = []

@settings(FIND, max_examples=50)
@given(lifecycles())
def probe(walk):
    seen.append(repr(walk))

probe()
print(hashlib.sha256("".join(seen).encode()).hexdigest())
"""


def drawn(before: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE.format(before=before)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return done.stdout.strip()


def test_find_draws_the_same_examples_whatever_was_imported_before() -> None:
    """Hypothesis draws some values from the constants of the local modules loaded so far: a
    test that imported the service (as the README's does) must not change what FIND draws."""
    assert drawn("") == drawn("import adapters.web, adapters.cli")
