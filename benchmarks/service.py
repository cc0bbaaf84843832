"""Workload "service": provider webhooks through `engage serve`, a real server on 127.0.0.1, with
the load client in this process and the server in its own (`benchmarks/service_server.py`,
`benchmarks/service_load.py`).

1. **Throughput.** Signed SendGrid Event Webhook requests of 1,000 events (the "sendgrid"
   workload's batches) POSTed to `/webhooks/sendgrid` of `engage serve --workers 1` (over 2
   connections) and `--workers 2` (over 4), against the same batches through
   `adapters.providers.ingest.ingest` in this process, as `engage ingest sendgrid` runs it.
   Every contender gets a fresh SQLite file (and a fresh server) each round, the same few
   small warm-up requests untimed first, and rounds rotate as in every workload; best round
   credited. Goals: each served rate at least 0.8 of in-process, and at least 10,000 events/s.
2. **Latency.** Single signed Twilio status callbacks POSTed to `/webhooks/twilio` at a fixed
   rate (200/s for 30 s by default), open loop: each is sent at its scheduled time whatever
   the answers, and its latency runs from that time, so a stall is charged to every request
   it delays. p50 and p99 for `--workers 1` and `2`, each on a fresh server and store.
   Goal: p99 under 50 ms.

Every answer must be 200 with nothing quarantined, and the events received must add up;
the throughput part stops with an error otherwise, the latency part counts them.

To tell where a latency comes from, the latency part also reports the CPU time the server's
processes and the client used per callback, the round trip of `GET /healthz` one at a time
(HTTP alone: no signature, no store) and one callback through `ingest` in this process (the
webhook work alone). `--profile` adds a cProfile of `engage serve --workers 1`, every thread,
under each part's load (`benchmarks.service_server`).
"""

from __future__ import annotations

import base64
import io
import pstats
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import attrs
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.providers.base import InboundRequest
from adapters.providers.ingest import ingest
from adapters.providers.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER, SendGridAdapter
from adapters.providers.twilio import TwilioAdapter
from adapters.providers.twilio_signature import expected_signature
from adapters.stores import open_application
from benchmarks.harness import Contender, Goal, Result, Run, Trial, format_result, measure
from benchmarks.ingest import fresh_database
from benchmarks.sendgrid_webhook import BATCH, events
from benchmarks.service_load import (
    Answered,
    OpenLoop,
    Signed,
    open_loop,
    percentile,
    post_all,
    round_trips,
)
from benchmarks.service_server import PUBLIC_URL, cpu_seconds, served

SENDGRID_PATH = "/webhooks/sendgrid"
TWILIO_PATH = "/webhooks/twilio"
TWILIO_TOKEN = "bench0123456789abcdef0123456789ab"
IN_PROCESS = "in-process ingest"
RATIO_GOAL = 0.8
RATE_GOAL = 10_000  # events/s, each served contender
P99_GOAL = 0.050  # seconds
WORKERS = (1, 2)
FULL_SECONDS, QUICK_SECONDS = 30.0, 3.0
FULL_RATE = 200.0
_WARM_EVENTS = 20  # events in each warm-up request
FLOOR_REQUESTS = 100  # sequential requests measuring a floor (at most one per callback)


def connections(workers: int) -> int:
    """Client connections for a server of `workers`: two each, so one request's body can
    arrive while another is worked on."""
    return 2 * workers


def served_name(workers: int) -> str:
    plural = "s" if workers > 1 else ""
    return f"engage serve, {workers} worker{plural}, {connections(workers)} connections"


class _SendGrid:
    """SendGrid's side: the batches' bodies, and a P-256 key signing them with a fresh
    timestamp when a round needs them (the server accepts 10 minutes of skew)."""

    def __init__(self, seed: int, count: int) -> None:
        made = events(seed, count)
        self.bodies = [orjson.dumps(made[i : i + BATCH]) for i in range(0, len(made), BATCH)]
        warm = events(seed + 1_000_000, 4 * _WARM_EVENTS)  # other messages than the timed ones
        self.warm = [
            orjson.dumps(warm[i : i + _WARM_EVENTS]) for i in range(0, len(warm), _WARM_EVENTS)
        ]
        self.count = len(made)
        self._key = ec.generate_private_key(ec.SECP256R1())
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def signed(self, bodies: Sequence[bytes]) -> list[Signed]:
        timestamp = str(int(time.time()))
        made = []
        for body in bodies:
            signature = self._key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
            headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                       SIGNATURE_HEADER: base64.b64encode(signature).decode()}  # fmt: skip
            made.append((body, headers))
        return made


def twilio_requests(seed: int, count: int) -> list[Signed]:
    """`count` form-encoded status callbacks, sent then delivered for each message, signed
    as Twilio signs them (HMAC-SHA1 over the public URL and the sorted parameters)."""
    url = f"{PUBLIC_URL}{TWILIO_PATH}"
    made = []
    for index in range(count):
        sid = f"SM{seed:08x}{index // 2:024x}"
        params = {
            "MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32,
            "MessageStatus": ("sent", "delivered")[index % 2], "From": "+15005550006",
            "To": f"+1213555{index // 2 % 10_000:04d}", "ApiVersion": "2010-04-01",
        }  # fmt: skip
        signature = expected_signature(TWILIO_TOKEN, url, params.items())
        made.append((urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
        }))  # fmt: skip
    return made


def _secrets(sendgrid: _SendGrid) -> dict[str, str]:
    return {
        "ENGAGE_SENDGRID_PUBLIC_KEY": sendgrid.public_key,
        "ENGAGE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    }


def _received(answers: Sequence[Answered], expected: int, what: str) -> int:
    """The events the answers report received; an error unless all were kept, unquarantined."""
    bad = [a for a in answers if a.status != 200 or a.report.get("quarantined")]
    received = sum(int(str(a.report.get("received", 0))) for a in answers)
    if bad or received != expected:
        raise RuntimeError(f"{what}: {len(bad)} requests not applied (first: {bad[:1]}), "
                           f"{received:,} events received of {expected:,}")  # fmt: skip
    return received


def _in_process(sendgrid: _SendGrid) -> Trial:
    @contextmanager
    def trial() -> Iterator[Run]:
        with fresh_database() as path:
            app = open_application(f"sqlite:///{path}")
            adapter = SendGridAdapter(sendgrid.public_key)
            url = f"{PUBLIC_URL}{SENDGRID_PATH}"

            def through(requests: Sequence[Signed]) -> list[Answered]:
                reports = [ingest(app, adapter, InboundRequest(body, headers, url=url))
                           for body, headers in requests]  # fmt: skip
                return [Answered(200 if r.refused is None else 400, r.as_dict()) for r in reports]

            through(sendgrid.signed(sendgrid.warm))
            requests = sendgrid.signed(sendgrid.bodies)
            try:
                yield lambda: _received(through(requests), sendgrid.count, IN_PROCESS)
            finally:
                app.close()

    return trial


def _served(sendgrid: _SendGrid, workers: int) -> Trial:
    @contextmanager
    def trial() -> Iterator[Run]:
        with served(workers, _secrets(sendgrid)) as server:
            width = connections(workers)
            warm = post_all(server.url, SENDGRID_PATH, sendgrid.signed(sendgrid.warm), width)
            _received(warm, len(sendgrid.warm) * _WARM_EVENTS, "warm-up")
            requests = sendgrid.signed(sendgrid.bodies)

            def run() -> int:
                answers = post_all(server.url, SENDGRID_PATH, requests, width)
                return _received(answers, sendgrid.count, served_name(workers))

            yield run

    return trial


@attrs.frozen
class Latency:
    """One open-loop run against a server of `workers`, and that server's HTTP floor: GET
    /healthz (no signature, no store) one at a time on one connection."""

    workers: int
    rate: float
    run: OpenLoop
    healthz: tuple[float, ...]
    server_cpu: float | None  # seconds the server's processes ran on a CPU during the run
    client_cpu: float  # seconds this process ran on a CPU during the run (the client)

    @property
    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.run.answers)

    @property
    def quarantined(self) -> int:
        return sum(int(str(a.report.get("quarantined", 0))) for a in self.run.answers)


def latency(workers: int, *, seconds: float, rate: float, seed: int) -> Latency:
    """`rate` callbacks a second for `seconds` to a fresh `engage serve --workers N`."""
    requests = twilio_requests(seed, max(1, round(seconds * rate)))
    warm = twilio_requests(seed + 1_000_000, 4 * connections(workers))
    with served(workers, {"ENGAGE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN}) as server:
        post_all(server.url, TWILIO_PATH, warm, connections(workers))
        healthz = round_trips(server.url, "/healthz", min(FLOOR_REQUESTS, len(requests)))
        server_before, client_before = cpu_seconds(server.pid), _own_cpu()
        loop = open_loop(server.url, TWILIO_PATH, requests, rate)
        server_after, client_after = cpu_seconds(server.pid), _own_cpu()
    server_cpu = None
    if server_before is not None and server_after is not None:
        server_cpu = server_after - server_before
    return Latency(workers, rate, loop, healthz, server_cpu, client_after - client_before)


def _own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def in_process_latency(seed: int, count: int) -> tuple[float, ...]:
    """The floor under the service's answer: each of `count` callbacks through `ingest` in
    this process, one at a time, on a fresh store (seconds each)."""
    requests = twilio_requests(seed + 2_000_000, count)
    taken = []
    with fresh_database() as path:
        app = open_application(f"sqlite:///{path}")
        adapter = TwilioAdapter(TWILIO_TOKEN)
        try:
            for body, headers in requests:
                request = InboundRequest(body, headers, url=f"{PUBLIC_URL}{TWILIO_PATH}")
                start = time.perf_counter()
                report = ingest(app, adapter, request)
                taken.append(time.perf_counter() - start)
                if report.refused is not None or report.quarantined:
                    raise RuntimeError(f"in-process callback not applied: {report.as_dict()}")
        finally:
            app.close()
    return tuple(taken)


@attrs.frozen
class Done:
    """Both parts' figures."""

    throughput: Result
    latencies: tuple[Latency, ...]
    in_process: tuple[float, ...]  # one callback through ingest, seconds each


def run(
    *, observations: int, seed: int, repeats: int, seconds: float, rate: float,
    workers: Sequence[int] = WORKERS,
) -> tuple[Done, str]:  # fmt: skip
    """Both parts, at the sizes given."""
    sendgrid = _SendGrid(seed, observations)
    contenders = [Contender(IN_PROCESS, _in_process(sendgrid))]
    contenders += [Contender(served_name(n), _served(sendgrid, n)) for n in workers]
    result = measure("service", "events/s", contenders, repeats)
    latencies = tuple(latency(n, seconds=seconds, rate=rate, seed=seed) for n in workers)
    floor = min(FLOOR_REQUESTS, max(1, round(seconds * rate)))
    done = Done(result, latencies, in_process_latency(seed, floor))
    return done, report(done, events=sendgrid.count, repeats=repeats, seconds=seconds)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _throughput_report(result: Result, *, events: int, repeats: int) -> list[str]:
    served_names = [name for name in result.rates if name != IN_PROCESS]
    goals = [Goal(name, IN_PROCESS, RATIO_GOAL) for name in served_names]
    heading = (f"service, throughput: {events:,} signed SendGrid events in requests of {BATCH:,}, "
               f"engage serve on 127.0.0.1 against in-process ingest, a fresh SQLite file "
               f"each, best of {repeats}")  # fmt: skip
    lines = [format_result(result, goals, heading=heading)]
    for name in served_names:
        verdict = "met" if result.best(name) >= RATE_GOAL else "MISSED"
        lines.append(f"  {name}: {result.best(name):,.0f} events/s   "
                     f"goal >= {RATE_GOAL:,} events/s: {verdict}")  # fmt: skip
    return lines


def _latency_lines(measured: Latency) -> list[str]:
    loop = measured.run
    p99 = loop.percentile(0.99)
    verdict = "met" if p99 < P99_GOAL else "MISSED"
    statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(measured.statuses.items()))
    plural = "s" if measured.workers > 1 else ""
    count = len(loop.latencies)
    cpu = measured.server_cpu
    server = "unknown" if cpu is None else _ms(cpu / count)
    return [
        f"  {measured.workers} worker{plural}: p50 {_ms(loop.percentile(0.5))}, "
        f"p90 {_ms(loop.percentile(0.9))}, p99 {_ms(p99)}, max {_ms(max(loop.latencies))}"
        f"   goal p99 < {P99_GOAL * 1000:.0f} ms: {verdict}",
        f"    {len(loop.latencies):,} requests ({statuses}; quarantined {measured.quarantined}),"
        f" client at most {_ms(max(loop.send_lag))} late to send",
        f"    CPU per callback: server {server}, client {_ms(measured.client_cpu / count)};"
        f" GET /healthz one at a time: p50 {_ms(percentile(measured.healthz, 0.5))}",
    ]


def report(done: Done, *, events: int, repeats: int, seconds: float) -> str:
    lines = _throughput_report(done.throughput, events=events, repeats=repeats)
    if done.latencies:
        rate = done.latencies[0].rate
        lines.append(f"service, latency: signed Twilio status callbacks at {rate:g}/s for "
                     f"{seconds:g} s, open loop, from the scheduled send time")  # fmt: skip
    for measured in done.latencies:
        lines += _latency_lines(measured)
    lines.append(f"  in-process ingest of one callback, one at a time: "
                 f"p50 {_ms(percentile(done.in_process, 0.5))}, "
                 f"p99 {_ms(percentile(done.in_process, 0.99))}")  # fmt: skip
    return "\n".join(lines)


def _top(path: Path, title: str, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)
    return f"{title}\n{out.getvalue()}"


def profile(*, observations: int, seed: int, seconds: float, rate: float, top: int = 25) -> str:
    """cProfile of `engage serve --workers 1` (every thread, merged) under each part's load:
    the throughput part's batches, then the latency part's callbacks."""
    sendgrid = _SendGrid(seed, observations)
    with tempfile.TemporaryDirectory(prefix="engage-bench-profile-") as directory:
        batches, callbacks = Path(directory, "batches.prof"), Path(directory, "callbacks.prof")
        with served(1, _secrets(sendgrid), profile_to=batches) as server:
            post_all(server.url, SENDGRID_PATH, sendgrid.signed(sendgrid.bodies), connections(1))
        with served(1, _secrets(sendgrid), profile_to=callbacks) as server:
            requests = twilio_requests(seed, max(1, round(seconds * rate)))
            open_loop(server.url, TWILIO_PATH, requests, rate)
        return "\n".join([
            _top(batches, f"service profile, engage serve --workers 1, {sendgrid.count:,} "
                          f"SendGrid events over {connections(1)} connections:", top),
            _top(callbacks, f"service profile, engage serve --workers 1, {len(requests):,} "
                            f"Twilio callbacks at {rate:g}/s:", top),
        ])  # fmt: skip
