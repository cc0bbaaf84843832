"""The README's end-to-end path runs as written: ingest a provider batch, see the events it
published, deliver them to the default destination."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
ENGAGE = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "engage")


def commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## From provider webhooks to your tools") :]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block is not None
    return [line.split("#")[0].split() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_path_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    env["ENGAGE_STORE"] = f"sqlite:///{tmp_path / 'engage.db'}"
    outputs = []
    for words in commands():
        assert words[0] == "engage"
        done = subprocess.run([ENGAGE, *words[1:]], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, (words, done.stderr)
        assert "Traceback" not in done.stderr
        outputs.append(done.stdout)
    ingested = json.loads(outputs[0])
    assert ingested["received"] == ingested["applied"] + ingested["conflicts"]
    events = [json.loads(line) for line in outputs[1].splitlines()]
    assert len(events) == 3
    assert all(e["type"] == "track" for e in events)
    delivered = (tmp_path / "engage.events.jsonl").read_text().splitlines()
    assert [json.loads(line)["messageId"] for line in delivered][:3] == [
        e["messageId"] for e in events
    ]
