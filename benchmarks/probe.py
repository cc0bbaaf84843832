"""One input through the product in a fresh process: its time, peak memory and store growth.

`python -m benchmarks.probe KIND INPUT STORE` runs one of Engage's ways in on an input file, in
this process and nothing else, and prints one JSON object. A fresh process per run is what
makes its peak RSS (`VmHWM`) the work's own: a benchmark process that built inputs or ran other
workloads before would carry its high-water mark along.

- `observe`: `engage --store sqlite:///STORE observe INPUT` (JSON Lines of provider reports);
- `consent`: `engage --store sqlite:///STORE subscriptions import INPUT --errors …`;
- `rebuild`: `engage --store sqlite:///STORE rebuild --all` (INPUT is ignored: the log is STORE);
- `sendgrid`: every request body in the directory INPUT, signed here with a fresh P-256 key
  (SendGrid's part, untimed), through `adapters.providers.ingest.ingest` on one application,
  as `engage serve` runs each webhook request (`engage ingest` would reopen the store for
  every request).

The CLI verbs run through `adapters.cli.main.main`, their modules imported before the "before"
reading, so what is measured is the work, not the imports. Reported: `inputs`, `seconds` (the
work alone), `before_kib` (`VmRSS` just before the work), `peak_kib` (`VmHWM` after it),
`events` (rows of `stored_events`) and `store_bytes` (the SQLite file and its WAL once
checkpointed: the store as it stays on disk).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import peak_rss_kib, proc_status_kib

KINDS = ("observe", "sendgrid", "consent", "rebuild")
_PRELOADED = (
    "adapters.cli.main", "adapters.cli.commands", "adapters.cli.consent", "adapters.cli.views",
    "adapters.stores", "adapters.views", "adapters.providers.ingest", "adapters.providers.sendgrid",
    "adapters.imports.subscriptions_csv", "engage_core.application",
)  # fmt: skip


def rss_kib() -> int:
    """This process's resident set now, in KiB (`VmRSS`; 0 where /proc is missing)."""
    return proc_status_kib("VmRSS") or 0


def store_size(database: Path) -> tuple[int, int]:
    """(events stored, bytes of the database file and its WAL after a checkpoint)."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (events,) = connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    finally:
        connection.close()
    wal = database.with_name(database.name + "-wal")
    return int(events), database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _cli(argv: list[str]) -> None:
    from adapters.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    if code != 0:
        raise RuntimeError(f"engage {' '.join(argv)} exited {code}")


def _sendgrid(directory: Path, database: Path) -> int:
    """Every body in `directory` through `ingest`, signed just before; the events received.
    Only the `ingest` calls count as work: the caller times this whole function, and signing
    a request costs about 0.1 ms against the ~100 ms its 1,000 events take."""
    from adapters.providers.ingest import ingest
    from adapters.providers.sendgrid import SendGridAdapter
    from adapters.stores import open_application
    from benchmarks.sendgrid_webhook import _Signer

    signer = _Signer()
    adapter = SendGridAdapter(signer.public_key)
    app = open_application(f"sqlite:///{database}")
    received = 0
    try:
        for body_file in sorted(directory.iterdir()):
            request = signer.request(body_file.read_bytes(), int(time.time()))
            report = ingest(app, adapter, request)
            if report.refused is not None or report.quarantined:
                raise RuntimeError(f"{body_file.name} not applied: {report.errors}")
            received += report.received
    finally:
        app.close()
    return received


def _inputs(kind: str, source: Path) -> int:
    if kind == "observe":
        with source.open("rb") as lines:
            return sum(1 for _ in lines)
    if kind == "consent":
        with source.open("rb") as rows:
            return sum(1 for _ in rows) - 1  # the header
    return 0


def child(kind: str, source: Path, database: Path) -> dict[str, Any]:
    """Run one way in on `source` into `database` here; what it took (see the module doc)."""
    for module in _PRELOADED:
        importlib.import_module(module)
    inputs = _inputs(kind, source)
    store = f"sqlite:///{database}"
    before = rss_kib()
    start = time.perf_counter()
    if kind == "observe":
        _cli(["--store", store, "observe", str(source)])
    elif kind == "consent":
        errors = database.with_name("errors.csv")
        _cli(["--store", store, "subscriptions", "import", str(source), "--errors", str(errors)])
    elif kind == "rebuild":
        _cli(["--store", store, "rebuild", "--all"])
    elif kind == "sendgrid":
        inputs = _sendgrid(source, database)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    seconds = time.perf_counter() - start
    peak = peak_rss_kib()
    events, size = store_size(database)
    if kind == "rebuild":
        inputs = events
    return {"kind": kind, "inputs": inputs, "seconds": seconds, "before_kib": before,
            "peak_kib": peak, "events": events, "store_bytes": size}  # fmt: skip


def probe(kind: str, source: Path, database: Path) -> dict[str, Any]:
    """`child` in a fresh `python -m benchmarks.probe` process; its JSON report."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.probe", kind, str(source), str(database)],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"probe {kind} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in KINDS:
        print(f"usage: python -m benchmarks.probe {{{','.join(KINDS)}}} INPUT STORE",
              file=sys.stderr)  # fmt: skip
        return 2
    print(json.dumps(child(args[0], Path(args[1]), Path(args[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
