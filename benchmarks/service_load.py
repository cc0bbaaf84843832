"""The client side of the "service" workload, run in the benchmark's own process (the server is
another): signed requests posted to `engage serve` on 127.0.0.1 with httpx.

- `post_all`: a fixed list of requests over a few keep-alive connections, one thread each,
  each taking the next request as soon as its last one is answered (closed loop: throughput).
- `open_loop`: requests sent at fixed times, `rate` a second, whatever the answers (asyncio,
  one task per request), each latency taken from the time it was *scheduled* to be sent, so
  a slow answer is charged to every request it held back (no coordinated omission). How late
  the client itself was to send is recorded apart, to tell a slow client from a slow server.
  This client writes prebuilt HTTP/1.1 requests on keep-alive asyncio streams instead of
  httpx: on a 2-CPU machine the client shares the server's CPUs, and httpx's AsyncClient
  spent about 2 ms of CPU a request here, as much as the server; this one about a tenth.

Both are bounded: a count of requests, and a timeout on each.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import attrs
import httpx
import orjson

Signed = tuple[bytes, dict[str, str]]  # a body and the headers that sign it
TIMEOUT_SECONDS = 30.0
OPEN_LOOP_CONNECTIONS = 256  # at most this many requests in flight at once


@attrs.frozen
class Answered:
    """One request's outcome: its HTTP status (0: no answer) and its JSON body, if any."""

    status: int
    report: dict[str, object]


def _answered(response: httpx.Response) -> Answered:
    try:
        report = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        report = {}
    return Answered(response.status_code, report if isinstance(report, dict) else {})


def post_all(base_url: str, path: str, requests: Sequence[Signed], connections: int) -> list[
    Answered
]:  # fmt: skip
    """POST every request, over `connections` connections at once; answers in request order."""
    answers: list[Answered | None] = [None] * len(requests)
    lock = threading.Lock()
    remaining = iter(range(len(requests)))

    def connection() -> None:
        with httpx.Client(base_url=base_url, timeout=TIMEOUT_SECONDS) as client:
            while True:
                with lock:
                    index = next(remaining, None)
                if index is None:
                    return
                body, headers = requests[index]
                try:
                    answers[index] = _answered(client.post(path, content=body, headers=headers))
                except httpx.HTTPError as error:
                    answers[index] = Answered(0, {"error": repr(error)})

    threads = [threading.Thread(target=connection) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [a if a is not None else Answered(0, {}) for a in answers]


@attrs.frozen
class OpenLoop:
    """An open-loop run: each request's latency from its scheduled send time (seconds), its
    answer, how late the client was to send it, and the schedule's span."""

    latencies: tuple[float, ...]
    answers: tuple[Answered, ...]
    send_lag: tuple[float, ...]
    scheduled_seconds: float

    def percentile(self, fraction: float) -> float:
        return percentile(self.latencies, fraction)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value that at least `fraction` of the values do not exceed."""
    ordered = sorted(values)
    rank = max(1, math.ceil(round(fraction * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


def round_trips(base_url: str, path: str, count: int) -> tuple[float, ...]:
    """`count` GETs of `path`, one at a time on one connection: each round trip, seconds."""
    taken = []
    with httpx.Client(base_url=base_url, timeout=TIMEOUT_SECONDS) as client:
        for _ in range(count):
            start = time.perf_counter()
            client.get(path).raise_for_status()
            taken.append(time.perf_counter() - start)
    return tuple(taken)


def open_loop(base_url: str, path: str, requests: Sequence[Signed], rate: float) -> OpenLoop:
    """Send request i at start + i / rate, each on its own task; wait for every answer."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raw = [_raw_post(f"{host}:{port}", path, body, headers) for body, headers in requests]
    return asyncio.run(_open_loop(_Pool(host, port, OPEN_LOOP_CONNECTIONS), raw, rate))


def _raw_post(host: str, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    """A whole HTTP/1.1 request, written in one go (built before the clock starts)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "\r\n".join([*lines, "", ""]).encode("latin-1") + body


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _Pool:
    """Keep-alive connections to one server, opened as needed, at most `limit` at once."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(limit)

    async def post(self, request: bytes) -> Answered:
        async with self.slots:
            if self.idle:
                answered = await self._on(self.idle.pop(), request)
                if answered.status:
                    return answered
                # else the server had closed that idle connection: once more on a new one
            try:
                connection = await asyncio.open_connection(self.host, self.port)
            except OSError as error:
                return Answered(0, {"error": repr(error)})
            return await self._on(connection, request)

    async def _on(self, connection: _Connection, request: bytes) -> Answered:
        try:
            answered = await asyncio.wait_for(_exchange(*connection, request), TIMEOUT_SECONDS)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            connection[1].close()
            return Answered(0, {"error": repr(error)})
        self.idle.append(connection)
        return answered


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> Answered:
    """One request written, its answer read (the server sends a Content-Length)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    content = await reader.readexactly(length)
    try:
        report = orjson.loads(content)
    except orjson.JSONDecodeError:
        report = {}
    return Answered(int(status_line.split()[1]), report if isinstance(report, dict) else {})


async def _open_loop(pool: _Pool, requests: Sequence[bytes], rate: float) -> OpenLoop:
    count = len(requests)
    latencies = [0.0] * count
    lags = [0.0] * count
    answers: list[Answered] = [Answered(0, {})] * count

    async def send(index: int, scheduled: float) -> None:
        lags[index] = time.perf_counter() - scheduled
        answers[index] = await pool.post(requests[index])
        latencies[index] = time.perf_counter() - scheduled

    start = time.perf_counter() + 0.1
    tasks = []
    for index in range(count):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(index, scheduled)))
    await asyncio.gather(*tasks)
    for _, writer in pool.idle:
        writer.close()
    return OpenLoop(tuple(latencies), tuple(answers), tuple(lags), (count - 1) / rate)
