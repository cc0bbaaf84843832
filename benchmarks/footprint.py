"""What an input costs besides time: bytes of store and peak memory, per kind of input.

For each way in (observe JSON Lines through `engage observe`, SendGrid webhook requests through
`ingest`, a consent CSV through `engage subscriptions import`) an input of about the size asked
for (10 MB in `make bench`) is written to disk and run in a fresh process
(`benchmarks.probe`), into a fresh SQLite store. From that one run:
- **store per input**: events stored per input, and bytes of store (the SQLite file and its
  WAL, checkpointed) per event and per input: what a year of traffic costs on disk;
- **memory amplification**: peak RSS (`VmHWM`) minus the RSS just before the work, over the
  input's size. A way in that streams its input stays near its batch's working set whatever
  the input's size; one that holds its input (or what it derived from it) grows with it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs

from benchmarks.inputs import KINDS, write
from benchmarks.probe import probe

AMPLIFICATION_GOAL = 10.0  # peak RSS over the input's size, at most
STORE_GOALS = {"consent": 400.0}  # bytes of store per input, at most
WAYS_IN = {
    "observe": "engage observe (JSON Lines)",
    "sendgrid": "SendGrid webhook requests",
    "consent": "engage subscriptions import (CSV)",
}


@attrs.frozen
class Footprint:
    """One input of one kind, run once in a fresh process."""

    kind: str
    inputs: int
    input_bytes: int
    events: int
    store_bytes: int
    before_kib: int
    peak_kib: int
    seconds: float

    @property
    def events_per_input(self) -> float:
        return self.events / max(self.inputs, 1)

    @property
    def store_per_input(self) -> float:
        return self.store_bytes / max(self.inputs, 1)

    @property
    def store_per_event(self) -> float:
        return self.store_bytes / max(self.events, 1)

    @property
    def amplification(self) -> float:
        """(peak RSS - RSS before the work) / input size."""
        return (self.peak_kib - self.before_kib) * 1024 / max(self.input_bytes, 1)


def measure(*, megabytes: float, kinds: tuple[str, ...] = KINDS) -> list[Footprint]:
    """Each kind's input of about `megabytes` MB through the product, each in a fresh process."""
    found = []
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="engage-bench-footprint-") as directory:
            written = write(kind, Path(directory), max_bytes=int(megabytes * 1_000_000))
            report = probe(kind, written.path, Path(directory) / "engage.db")
            found.append(
                Footprint(
                    kind,
                    int(report["inputs"]),
                    written.bytes,
                    int(report["events"]),
                    int(report["store_bytes"]),
                    int(report["before_kib"]),
                    int(report["peak_kib"]),
                    float(report["seconds"]),
                )
            )
    return found
