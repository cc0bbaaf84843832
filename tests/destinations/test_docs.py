"""docs/destinations.md: the verification function receivers copy is the one Engage tests, and
its test vector holds."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from adapters.destinations import signature

DOC = Path(__file__).parents[2] / "docs" / "destinations.md"


def _block() -> str:
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
               if "def verify_signature" in b]  # fmt: skip
    return str(code)


def _copied() -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(_block(), str(DOC), "exec"), namespace)
    return namespace["verify_signature"]


def test_the_copied_function_is_the_real_one() -> None:
    real = re.sub(r'\n    """.*?"""', "", inspect.getsource(signature.verify_signature), flags=re.S)
    copied = _block()
    assert copied[copied.index("def verify_signature") :] == real


def test_the_documented_test_vector() -> None:
    header = re.search(r"X-Engage-Signature: (t=\d+,v1=[0-9a-f]{64})", DOC.read_text())
    assert header is not None
    assert header.group(1) == signature.sign("whsec_example", b'{"batch":[]}', 1767225600)
    assert _copied()("whsec_example", header.group(1), b'{"batch":[]}', now=1767225600)
