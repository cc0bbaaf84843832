"""`engage_core` loads its public names on first use: a program that needs one corner of the
core (the CLI drawing a lifecycle) does not import the application and eventsourcing, and
every public name still resolves, to the object its home module defines."""

from __future__ import annotations

import importlib
import subprocess
import sys

import engage_core


def test_importing_a_corner_of_the_core_leaves_the_application_unloaded() -> None:
    probe = (
        "import sys, engage_core.lifecycles.diagram; "
        "print(sorted(m for m in ('engage_core.application', 'eventsourcing', "
        "'engage_core.consent.batch') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves_to_its_home() -> None:
    homes = engage_core._HOMES
    assert sorted(homes) == sorted(engage_core.__all__)
    for name, home in homes.items():
        assert getattr(engage_core, name) is getattr(importlib.import_module(home), name)
    assert sorted(dir(engage_core)) == sorted(engage_core.__all__)


def test_every_public_class_and_function_says_why_it_exists() -> None:
    undocumented = []
    for name in engage_core.__all__:
        value = getattr(engage_core, name)
        if isinstance(value, type):
            own = value.__dict__.get("__doc__")
        elif callable(value):
            own = value.__doc__
        else:
            continue  # a constant (LIFECYCLES, USUAL_PROVIDERS) is described by its home
        if not own or not own.strip():
            undocumented.append(name)
    assert undocumented == []


def test_the_public_names_are_sorted() -> None:
    assert engage_core.__all__ == sorted(
        engage_core.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n)
    )
