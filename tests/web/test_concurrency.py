"""One application shared by the worker threads: signed callbacks sent from several client
threads at once all land, none lost and none twice, including reports racing on one message
(the store serialises writes; a conflict between two writers is decided again)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from engage_core import Channel
from tests.web.conftest import Service
from tests.web.signing import twilio, twilio_params

PATH = "/webhooks/twilio"
THREADS, EACH = 8, 25


def _send_all(service: Service, thread: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=service.url, timeout=30) as client:
        for n in range(EACH):
            body, headers = twilio(service.url + PATH, twilio_params(f"SM{thread}x{n}"))
            statuses.append(client.post(PATH, content=body, headers=headers).status_code)
            # every thread also reports on one shared message: writers racing on an aggregate
            shared = twilio_params("SMshared", "delivered" if n % 2 else "sent")
            shared["I"] = f"{thread}-{n}"  # a distinct, signed parameter: a distinct report
            body, headers = twilio(service.url + PATH, shared)
            statuses.append(client.post(PATH, content=body, headers=headers).status_code)
    return statuses


def test_concurrent_callbacks_all_land(service: Service) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        sent = pool.map(lambda thread: _send_all(service, thread), range(THREADS))
        answers = [status for statuses in sent for status in statuses]
    assert answers == [200] * (THREADS * EACH * 2)
    for thread in range(THREADS):
        for n in range(EACH):
            assert service.status(Channel.SMS, f"SM{thread}x{n}") == "delivered"
    shared = service.app.find_message(Channel.SMS, "SMshared")
    assert shared is not None
    assert shared.status == "delivered"
    reports = [entry for entry in shared.history if entry.kind != "inferred"]
    assert len(reports) == THREADS * EACH  # every report recorded once (applied, late or dup)
    # the shared message's repeats of a status are its duplicates: recorded, not applied again
    reports_stored = {"engage.message.Observed", "engage.message.DuplicateIgnored"}
    assert sum(t in reports_stored for t in service.applied()) == THREADS * EACH * 2
