"""The README's quick start of the service runs as written: `engage serve`, one Twilio status
callback signed with openssl and posted with curl, the message it delivered, and a SIGTERM
that stops the server cleanly. Run by bash in a scratch folder, on a free port."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def _block() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("Then serve it")
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", text[start:], flags=re.S)
    return blocks[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")),
                    reason="the README's example uses curl and openssl")  # fmt: skip
def test_the_readme_serves_and_takes_a_signed_callback(tmp_path: Path) -> None:
    engage = str(Path(sys.executable).parent / "engage")
    port = str(_free_port())
    script = _block().replace(".venv/bin/engage", engage).replace("8000", port)
    # the server needs a moment to listen before curl posts
    script = script.replace("URL=http", f"for _ in $(seq 100); do curl -s 127.0.0.1:{port}/healthz "
                            ">/dev/null && break; sleep 0.1; done\nURL=http", 1)  # fmt: skip
    script += "\nwait\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    result = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, text=True,
                            capture_output=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any('"listening":"http://127.0.0.1:' + port in line for line in lines), lines
    assert any('"received":1,"applied":1' in line for line in lines), lines
    assert any('"status":"delivered"' in line for line in lines), lines
