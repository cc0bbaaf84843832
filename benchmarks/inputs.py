"""Input files of each kind Engage takes in, written to disk at a given size, streamed.

The footprint and scaling measurements run the product on files, as an operator does, at sizes
up to a million inputs, so nothing here holds a whole input in memory: observation lines are
simulated a few thousand messages at a time (each chunk its own seed, so message ids never
collide), SendGrid requests are written one body file per 1,000 events, and the consent CSV is
`benchmarks.consent_csv.write_csv`, which streams already. Every writer stops at `count` inputs
or once `max_bytes` are written, whichever comes first, so an input can be asked for by size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import orjson

from benchmarks.consent_csv import write_csv
from benchmarks.sendgrid_webhook import BATCH, events
from engage_core.observations import Observation
from engage_core.simulation import simulate

KINDS = ("observe", "sendgrid", "consent")
_CHUNK_MESSAGES = 4_000  # messages simulated at a time (about 10,000 observations)
_UNBOUNDED = 1 << 62


@attrs.frozen
class Written:
    """An input on disk: where, how many inputs, and its size in bytes."""

    kind: str
    path: Path  # the file, or for SendGrid the directory of request bodies
    inputs: int
    bytes: int


def observation_line(observation: Observation) -> bytes:
    """One `engage observe` JSON line for `observation`."""
    data: dict[str, Any] = {
        "channel": observation.channel.value,
        "provider": observation.provider,
        "provider_message_id": observation.provider_message_id,
        "status": observation.status,
    }
    if observation.occurred_at is not None:
        data["occurred_at"] = _iso(observation.occurred_at)
    if observation.event_id is not None:
        data["event_id"] = observation.event_id
    if observation.details:
        data["details"] = dict(observation.details)
    if observation.facts is not None and observation.facts.given():
        data["facts"] = observation.facts.given()
    return orjson.dumps(data) + b"\n"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _simulated(seed: int) -> Iterator[Observation]:
    chunk = 0
    while True:
        yield from simulate(seed=seed * 100_003 + chunk, messages=_CHUNK_MESSAGES).observations
        chunk += 1


def write_observations(
    path: Path, *, count: int | None = None, max_bytes: int | None = None, seed: int = 1
) -> Written:
    """Simulated provider reports as `engage observe` reads them, one JSON object a line."""
    wanted, limit = count or _UNBOUNDED, max_bytes or _UNBOUNDED
    written = size = 0
    with path.open("wb") as out:
        for observation in _simulated(seed):
            if written >= wanted or size >= limit:
                break
            line = observation_line(observation)
            out.write(line)
            written, size = written + 1, size + len(line)
    return Written("observe", path, written, size)


def write_sendgrid(
    directory: Path, *, count: int | None = None, max_bytes: int | None = None, seed: int = 1
) -> Written:
    """SendGrid Event Webhook bodies of `BATCH` events each, one file per request, in order
    (`00000.json`, …); the events are the "sendgrid" workload's, about six per message."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted, limit = count or _UNBOUNDED, max_bytes or _UNBOUNDED
    written = size = request = 0
    while written < wanted and size < limit:
        # each request's events from a seed of its own: `events` builds its list whole
        batch = events(seed * 1_000_003 + request, min(BATCH, wanted - written))
        body = orjson.dumps(batch)
        (directory / f"{request:05d}.json").write_bytes(body)
        written, size, request = written + len(batch), size + len(body), request + 1
    return Written("sendgrid", directory, written, size)


def write_consent(
    path: Path, *, count: int | None = None, max_bytes: int | None = None, seed: int = 1
) -> Written:
    """A Segment subscription CSV (the "consent" workload's generator). For `max_bytes`, the
    rows are estimated from a 2,000-row sample of the same seed (its rows are the first rows of
    any larger file)."""
    rows = count
    if rows is None:
        sample = write_csv(path, rows=2_000, seed=seed)
        rows = max(1, int((max_bytes or sample.bytes) / (sample.bytes / sample.rows)))
    generated = write_csv(path, rows=rows, seed=seed)
    return Written("consent", path, generated.rows, generated.bytes)


WRITERS = {"observe": write_observations, "sendgrid": write_sendgrid, "consent": write_consent}


def write(
    kind: str, directory: Path, *, count: int | None = None, max_bytes: int | None = None
) -> Written:
    """An input of `kind` in `directory`, of `count` inputs or about `max_bytes` bytes."""
    name = {"observe": "observations.jsonl", "sendgrid": "sendgrid", "consent": "consent.csv"}
    return WRITERS[kind](directory / name[kind], count=count, max_bytes=max_bytes)
