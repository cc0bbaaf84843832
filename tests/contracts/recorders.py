"""eventsourcing's own recorder test cases (`eventsourcing.tests.persistence`), importable here.

That module imports `eventsourcing.cipher` at its top for its factory tests, and the cipher
needs PyCryptodome (eventsourcing's `crypto` extra), which Engage neither uses nor installs.
The recorder test cases never touch the cipher, so when PyCryptodome is missing the module is
imported with a placeholder for `eventsourcing.cipher`, in place only for that import: nothing
else in the session sees it (an application configured with a cipher still fails as it would).
"""

from __future__ import annotations

import importlib
import sys
import types
from unittest import mock


def recorder_test_cases() -> types.ModuleType:
    """`eventsourcing.tests.persistence`, imported with or without PyCryptodome."""
    try:
        return importlib.import_module("eventsourcing.tests.persistence")
    except ModuleNotFoundError as missing:
        if missing.name != "Crypto":
            raise
    placeholder = types.ModuleType("eventsourcing.cipher")
    placeholder.AESCipher = None  # type: ignore[attr-defined]
    with mock.patch.dict(sys.modules, {"eventsourcing.cipher": placeholder}):
        return importlib.import_module("eventsourcing.tests.persistence")
