"""Junk cannot fill the store: refused requests are held as metadata and a bounded prefix, at
most `held_per_minute` per source address; beyond, still refused (401, 413) but not held, and
counted. Signed requests are never limited."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from adapters.web.abuse import HeldLimiter
from engage_core.limits import Limits
from tests.web.conftest import Serve, Service
from tests.web.signing import FORM, twilio, twilio_params

PATH = "/webhooks/twilio"


def unheld(service: Service) -> float:
    for family in text_string_to_metric_families(service.client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "engage_refusals_unheld_total":
                return sample.value
    return 0.0


def unsigned(n: int, size: int = 0) -> tuple[bytes, dict[str, str]]:
    body = f"MessageSid=SMJ{n}&MessageStatus=delivered&Body=".encode() + b"j" * size
    return body, {"Content-Type": FORM}


def test_over_the_allowance_refusals_are_401_and_not_held(serve: Serve) -> None:
    with serve(held_per_minute=3) as service:
        answers = [service.post(PATH, unsigned(n, size=6000)) for n in range(7)]
        assert [a.status_code for a in answers] == [401] * 7
        assert ["held" in a.json() for a in answers] == [True] * 3 + [False] * 4
        held = list(service.app.held())
        assert len(held) == 3
        for entry in held:  # metadata and a bounded prefix, never the whole body
            assert entry.unauthenticated
            assert entry.request.truncated
            assert len(entry.request.body) == 4096
            assert entry.request.body_size > 6000
        assert unheld(service) == 4
        signed = service.post(PATH, twilio(service.url + PATH, twilio_params("SMOK")))
        assert signed.status_code == 200, signed.text


def test_each_source_has_its_own_allowance_behind_a_trusted_proxy(serve: Serve) -> None:
    with serve(held_per_minute=1, forwarded_allow_ips="127.0.0.1") as service:
        for n, source in enumerate(["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2"]):
            body, headers = unsigned(n)
            forwarded = {**headers, "X-Forwarded-For": f"203.0.113.9, {source}"}
            assert service.post(PATH, (body, forwarded)).status_code == 401
        assert len(list(service.app.held())) == 2
    with serve(held_per_minute=1) as service:  # an untrusted peer's header is ignored
        before = len(list(service.app.held()))
        for n, source in enumerate(["10.0.0.3", "10.0.0.4"]):
            body, headers = unsigned(n + 10)
            service.post(PATH, (body, {**headers, "X-Forwarded-For": source}))
        assert len(list(service.app.held())) == before + 1


def test_bodies_over_the_limit_count_against_the_allowance(serve: Serve) -> None:
    with serve(held_per_minute=1, limits=Limits(provider_body_bytes=1024)) as service:
        answers = [service.post(PATH, unsigned(n, size=50_000)) for n in range(3)]
        assert [a.status_code for a in answers] == [413] * 3
        assert "ENGAGE_MAX_PROVIDER_BODY_BYTES" in answers[2].json()["reason"]
        (entry,) = service.app.held()
        assert len(entry.request.body) == 1024
        assert entry.request.body_size > 50_000
        assert unheld(service) == 2


def test_a_zero_allowance_holds_nothing(serve: Serve) -> None:
    with serve(held_per_minute=0) as service:
        assert service.post(PATH, unsigned(1)).status_code == 401
        assert list(service.app.held()) == []


def test_the_allowance_refills_over_the_minute() -> None:
    now = [0.0]
    limiter = HeldLimiter(2, clock=lambda: now[0], max_sources=2)
    assert [limiter.take("a") for _ in range(3)] == [True, True, False]
    now[0] += 30  # half a minute: one more
    assert [limiter.take("a") for _ in range(2)] == [True, False]
    assert limiter.take("b")
    assert limiter.take("c")
    assert limiter.take("a")
    assert limiter.take("a")
