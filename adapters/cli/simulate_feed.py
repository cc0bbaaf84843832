"""Simulated traffic through the real ways in: directly, or over HTTP to `engage serve`.

Directly, each request goes through `adapters.providers.ingest.ingest` (verification with the
simulation's keys, parsing, the core), the CSV through the importer and identify calls as
`engage subscriptions identify` applies them. Over HTTP, the same bytes are posted to the
service's webhooks, its CSV upload (Bearer token) and Tracking API batch (write key); Twilio's
signature is made again over the URL actually called and SendGrid's over the time of sending,
as the providers sign each delivery.
"""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import attrs

from adapters.consent_requests import apply_identify_calls
from adapters.imports.subscriptions_csv import import_subscriptions
from adapters.providers.base import InboundRequest, ProviderAdapter
from adapters.providers.ingest import ingest
from adapters.providers.registry import adapter_for
from engage_core import EngageApplication
from engage_core.simulation.generator import Arrival, ConsentCsv, IdentifyCalls, Simulation
from engage_core.simulation.requests import (
    SENDGRID_TIMESTAMP_HEADER,
    ProviderRequest,
    sendgrid_batch,
    twilio_callback,
)

__all__ = ["Fed", "feed_direct", "feed_http"]

_COUNTED = ("received", "applied", "unchanged", "duplicates", "late", "conflicts", "rejected",
            "quarantined")  # fmt: skip


@attrs.define
class Fed:
    """What feeding did: inputs per provider (`csv` and `identify` for consent), counts by
    outcome, and the refusals' reasons (the first few)."""

    inputs: Counter[str] = attrs.field(factory=Counter)
    outcomes: Counter[str] = attrs.field(factory=Counter)
    errors: list[str] = attrs.field(factory=list)

    def count(self, kind: str, counts: Mapping[str, object]) -> None:
        self.inputs[kind] += 1
        for name in _COUNTED:
            value = counts.get(name)
            if isinstance(value, int):
                self.outcomes[name] += value
        errors = counts.get("errors")
        for error in errors if isinstance(errors, list) else ():
            if len(self.errors) < 5:
                self.errors.append(f"{kind}: {error}")


def _sendgrid_signed_at(request: ProviderRequest) -> datetime | None:
    stamp = request.header(SENDGRID_TIMESTAMP_HEADER)
    return datetime.fromtimestamp(int(stamp), UTC) if stamp else None


def feed_direct(
    app: EngageApplication, simulation: Simulation, tick: Callable[[], None] = lambda: None
) -> Fed:
    """Every arrival through the adapters and the core, in order."""
    fed = Fed()
    adapters: dict[str, ProviderAdapter] = {}
    environ = simulation.keys.environ()
    for arrival in simulation.arrivals:
        if isinstance(arrival, ConsentCsv):
            counts = import_subscriptions(app, io.StringIO(arrival.text), source=arrival.name)
            fed.count("csv", counts.as_dict())
        elif isinstance(arrival, IdentifyCalls):
            result = apply_identify_calls(app, enumerate(arrival.calls, 1), now=datetime.now(UTC))
            fed.count("identify", result.counts)
        else:
            adapter = adapters.setdefault(arrival.provider, adapter_for(arrival.provider, environ))
            request = InboundRequest(arrival.body, arrival.headers, url=arrival.url)
            report = ingest(app, adapter, request, now=_sendgrid_signed_at(arrival))
            fed.count(arrival.provider, report.as_dict())
        tick()
    return fed


@attrs.frozen
class HttpTarget:
    """A running `engage serve`: its base URL, the API token and the write key to use."""

    url: str
    api_token: str
    write_key: str


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            found = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode("utf-8", "replace")
        return {"received": 1, "rejected": 1, "errors": [f"HTTP {error.code}: {detail}"]}
    return found if isinstance(found, dict) else {}


def _resigned(arrival: ProviderRequest, simulation: Simulation, url: str) -> ProviderRequest:
    """The request as the provider would sign it for this URL, now."""
    keys = simulation.keys
    if arrival.provider == "twilio":
        params = dict(urllib.parse.parse_qsl(arrival.body.decode("ascii"), keep_blank_values=True))
        token = arrival.header("I-Twilio-Idempotency-Token")
        return twilio_callback(url, params, keys.twilio_token, idempotency_token=token)
    if arrival.provider == "sendgrid":
        events = json.loads(arrival.body)
        return sendgrid_batch(url, events, keys.sendgrid_private_key, int(time.time()))
    return attrs.evolve(arrival, url=url)


def _post_one(target: HttpTarget, simulation: Simulation, arrival: Arrival) -> tuple[str, dict[
        str, object]]:  # fmt: skip
    base = target.url.rstrip("/")
    if isinstance(arrival, ConsentCsv):
        headers = {"Authorization": f"Bearer {target.api_token}", "Content-Type": "text/csv"}
        answer = _post(f"{base}/api/subscriptions/csv", arrival.text.encode(), headers)
        return "csv", answer
    if isinstance(arrival, IdentifyCalls):
        basic = base64.b64encode(f"{target.write_key}:".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
        body = json.dumps({"batch": list(arrival.calls)}).encode()
        return "identify", _post(f"{base}/v1/batch", body, headers)
    request = _resigned(arrival, simulation, f"{base}/webhooks/{arrival.provider}")
    return arrival.provider, _post(request.url, request.body, dict(request.headers))


def feed_http(
    target: HttpTarget, simulation: Simulation, tick: Callable[[], None] = lambda: None
) -> Fed:
    """Every arrival posted to the service, in order, one at a time."""
    fed = Fed()
    for arrival in simulation.arrivals:
        kind, answer = _post_one(target, simulation, arrival)
        counts = answer.get("counts", answer)
        fed.count(kind, counts if isinstance(counts, dict) else {})
        tick()
    return fed
