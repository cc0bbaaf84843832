"""eventsourcing's own recorder test cases (`eventsourcing.tests.persistence`), importable here.

That module imports `eventsourcing.cipher` at its top for its factory tests, and the cipher
needs PyCryptodome: the dev extra installs eventsourcing's `crypto` extra for it (Engage itself
neither uses nor installs it).
"""

from __future__ import annotations

import importlib
import types


def recorder_test_cases() -> types.ModuleType:
    """`eventsourcing.tests.persistence`."""
    return importlib.import_module("eventsourcing.tests.persistence")
