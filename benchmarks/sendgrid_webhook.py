"""Workload "sendgrid": signed SendGrid Event Webhook batches through the whole ingest path.

The subject is what one webhook request costs end to end: verify the ECDSA P-256 signature
over timestamp + raw body (`cryptography`), parse the JSON array and map each event (the
adapter), and `EngageApplication.observe()` it into a SQLite file (route, load, decide, fold,
map to rows, one `save()` per request): `adapters.providers.ingest.ingest`, as `engage ingest`
and the web service call it. Requests carry 1,000 events, SendGrid's usual batch size under
load, over a few hundred messages: each message gets processed → delivered and some of open,
click, machine opens, a bounce or a deferral, in arrival order, with sg_event_ids.

The baseline is the physical floor of the same file format: sqlite3 `executemany` of the rows
the application stores for the same events (eventsourcing's `stored_events` table, same topics
and blobs, decided untimed beforehand), WAL, synchronous FULL, one transaction per 1,000 rows,
as in the "ingest" workload. The goal asks the whole path for at least 40% of that rate.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.providers.base import InboundRequest
from adapters.providers.ingest import ingest
from adapters.providers.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER, SendGridAdapter
from adapters.stores import store_env
from benchmarks.harness import Contender, Goal, Result, Run, format_result, measure, profile_call
from benchmarks.ingest import Row, fresh_database, raw_trial
from engage_core.application import Command, EngageApplication
from engage_core.ids import forget_message_ids

SUBJECT = "verify, parse, observe, SQLite"
RAW = "sqlite3 executemany"
GOALS = (Goal(SUBJECT, RAW, 0.4),)
BATCH = 1_000
_START = 1_780_000_000  # a fixed Unix time: the same seed gives the same bytes


def events(seed: int, count: int) -> list[dict[str, Any]]:
    """`count` SendGrid events in arrival order, about six per message."""
    rng = random.Random(seed)
    made: list[dict[str, Any]] = []
    message = 0
    while len(made) < count:
        message += 1
        sg_id = f"bench{seed}m{message:07d}.filter0001.16648.5515E0B88.0"
        email = f"user{message}@example.com"
        at = _START + message
        kinds = ["processed", "delivered"]
        if rng.random() < 0.05:
            kinds = ["processed", "deferred", "bounce"]
        else:
            kinds += rng.choices(["open", "click", "open"], k=rng.randint(0, 4))
        for n, kind in enumerate(kinds):
            event: dict[str, Any] = {
                "email": email, "timestamp": at + n * 30, "event": kind,
                "sg_event_id": f"e{seed}-{message}-{n}", "sg_message_id": sg_id,
                "smtp-id": f"<{message}@bench.example>", "category": ["bench"],
            }  # fmt: skip
            if kind == "open":
                event["sg_machine_open"] = rng.random() < 0.2
                event["useragent"] = "Mozilla/5.0"
            if kind == "click":
                event["url"] = f"https://example.com/{rng.randint(1, 5)}"
            if kind == "bounce":
                event.update(type="bounce", reason="550 5.1.1 no such user", status="5.1.1")
            made.append(event)
    return made[:count]


class _Signer:
    """SendGrid's side of the Signed Event Webhook: a P-256 key signing timestamp + body."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def request(self, body: bytes, timestamp: int) -> InboundRequest:
        signature = self._key.sign(str(timestamp).encode() + body, ec.ECDSA(hashes.SHA256()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: str(timestamp),
        }
        return InboundRequest(body, headers, url="https://engage.example.com/webhooks/sendgrid")


def signed_requests(seed: int, count: int) -> tuple[list[InboundRequest], str]:
    """Signed requests of `BATCH` events each (signed untimed: SendGrid does that part)."""
    signer = _Signer()
    made = events(seed, count)
    now = int(time.time())
    requests = [
        signer.request(orjson.dumps(made[i : i + BATCH]), now) for i in range(0, len(made), BATCH)
    ]
    return requests, signer.public_key


def stored_rows(requests: Sequence[InboundRequest], adapter: SendGridAdapter) -> list[list[Row]]:
    """The rows the application stores for each request (one save each), decided by a
    throwaway in-memory application (its decision time is the real clock's, as in the timed
    run)."""
    app = EngageApplication(env=store_env("memory://"))
    per_request: list[list[Row]] = []
    for request in requests:
        inputs = adapter.parse(request).inputs
        saved = app._execute(Command(inputs=list(inputs)))  # the events one save() writes
        rows: list[Row] = []
        for event in saved:
            stored = app.mapper.to_stored_event(event)
            rows.append((event.originator_id.hex, stored.originator_version, stored.topic,
                         stored.state))  # fmt: skip
        per_request.append(rows)
    return per_request


def _subject(requests: Sequence[InboundRequest], public_key: str) -> Any:
    @contextmanager
    def trial() -> Iterator[Run]:
        with fresh_database() as path:
            app = EngageApplication(env=store_env(f"sqlite:///{path}"))
            adapter = SendGridAdapter(public_key)
            forget_message_ids()  # every round sees its messages for the first time

            def run() -> int:
                received = 0
                for request in requests:
                    report = ingest(app, adapter, request)
                    if report.refused is not None or report.quarantined:
                        raise RuntimeError(f"benchmark request not applied: {report.errors}")
                    received += report.received
                return received

            try:
                yield run
            finally:
                app.close()

    return trial


def run(*, observations: int, seed: int, repeats: int) -> tuple[Result, str]:
    """Measure signed batches through ingest against raw inserts of the same rows."""
    requests, public_key = signed_requests(seed, observations)
    per_request = stored_rows(requests, SendGridAdapter(public_key))
    rows = sum(len(chunk) for chunk in per_request)
    contenders = [
        Contender(SUBJECT, _subject(requests, public_key)),
        Contender(RAW, lambda: raw_trial(per_request)),  # one row per event here
    ]
    result = measure("sendgrid", "events/s", contenders, repeats)
    body = sum(len(r.body) for r in requests) / len(requests)
    heading = (
        f"sendgrid: {observations:,} signed Event Webhook events in requests of {BATCH:,} "
        f"({body / 1024:.0f} KiB each), {rows:,} stored rows, SQLite file (WAL, "
        f"synchronous FULL), seed {seed}, best of {repeats}"
    )
    return result, format_result(result, GOALS, heading=heading)


def profile(*, observations: int, seed: int) -> str:
    requests, public_key = signed_requests(seed, observations)
    with _subject(requests, public_key)() as timed:
        report = profile_call(timed)
    return f"sendgrid profile, {SUBJECT}, {observations:,} events:\n{report}"
