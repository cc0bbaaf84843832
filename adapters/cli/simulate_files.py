"""`engage simulate --out DIR`: the traffic as files `engage ingest` replays, and its truth.

Each provider request's body goes to its own file (`00042-twilio.body`, the bytes as signed),
`requests.jsonl` lists them in arrival order with their URL and headers, the consent CSV and
the identify calls are written as `engage subscriptions import` and `identify` read them, and
`replay.sh` runs them all in order. The replay is `--no-verify`: SendGrid's signatures are
only fresh for minutes, and the simulation's keys are not the store's. `truth.json` is the
ground truth the run was checked against.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from engage_core.simulation.generator import ConsentCsv, IdentifyCalls, Simulation

__all__ = ["write_out"]

_HEAD = """\
#!/bin/sh
# Replays simulated traffic (seed {seed}, profile {profile}) in arrival order into the store
# named by ENGAGE_STORE (default engage.db). ENGAGE names the command (default: engage).
set -e
cd "$(dirname "$0")"
ENGAGE="${{ENGAGE:-engage}}"
"""


def _lines(simulation: Simulation, out: Path) -> tuple[list[str], list[str]]:
    script, listing = [], []
    for number, arrival in enumerate(simulation.arrivals, 1):
        if isinstance(arrival, ConsentCsv):
            (out / arrival.name).write_text(arrival.text, encoding="utf-8", newline="")
            script.append(f'"$ENGAGE" subscriptions import {shlex.quote(arrival.name)}')
            continue
        if isinstance(arrival, IdentifyCalls):
            text = "".join(json.dumps(call, separators=(",", ":")) + "\n"
                           for call in arrival.calls)  # fmt: skip
            (out / "identify.jsonl").write_text(text, encoding="utf-8")
            script.append('"$ENGAGE" subscriptions identify identify.jsonl')
            continue
        name = f"{number:05d}-{arrival.provider}.body"
        (out / name).write_bytes(arrival.body)
        headers = " ".join(f"--header {shlex.quote(f'{k}: {v}')}" for k, v in arrival.headers)
        script.append(f'"$ENGAGE" ingest {arrival.provider} {name} --url '
                      f"{shlex.quote(arrival.url)} {headers} --no-verify >/dev/null")  # fmt: skip
        entry = {"file": name, "provider": arrival.provider, "url": arrival.url,
                 "headers": list(arrival.headers)}  # fmt: skip
        listing.append(json.dumps(entry))
    return script, listing


def write_out(out: Path, simulation: Simulation) -> None:
    """Write the traffic and `truth.json` into `out` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    script, listing = _lines(simulation, out)
    head = _HEAD.format(seed=simulation.seed, profile=simulation.profile)
    replay = out / "replay.sh"
    replay.write_text(head + "\n".join(script) + "\n", encoding="utf-8")
    replay.chmod(0o755)
    (out / "requests.jsonl").write_text("\n".join(listing) + "\n", encoding="utf-8")
    truth = {"seed": simulation.seed, "profile": simulation.profile,
             "messages": simulation.messages, **simulation.truth.as_dict()}  # fmt: skip
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
