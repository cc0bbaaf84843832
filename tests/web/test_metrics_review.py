"""No client can add series to /metrics: over real HTTP, made-up methods and paths end up
under a fixed few label values (the method "other", the route "unmatched" or a route's
template), in the metrics and in the access log alike."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Route

from adapters.web import create_app
from engage_core import EngageApplication
from tests.web.conftest import Serve
from tests.web.test_storage_review import engage_lines

METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}  # as docs/service.md


def templates(app: EngageApplication) -> set[str]:
    """Every route template the app serves."""
    return {route.path for route in create_app(app).routes if isinstance(route, Route)}


def test_made_up_methods_and_paths_add_no_series(
    serve: Serve, engage_app: EngageApplication
) -> None:
    made_up = [f"X{n}QUERY" for n in range(20)] + ["get", "PROPFIND", "BREW"]
    paths = ["/healthz", "/nowhere", "/webhooks/twilio", "/spaces/s1/messaging-subscriptions",
             *(f"/junk/{n}" for n in range(20))]  # fmt: skip
    with engage_lines() as lines, serve() as service:
        for method in made_up:
            for path in paths[:4]:
                service.client.request(method, path)
        for path in paths:
            service.client.get(path)
        scraped = service.client.get("/metrics").text
    methods, routes = set(), set()
    for family in text_string_to_metric_families(scraped):
        for sample in family.samples:
            if "method" in sample.labels:
                methods.add(sample.labels["method"])
            if "route" in sample.labels:
                routes.add(sample.labels["route"])
    assert methods <= METHODS | {"other"}, methods
    assert "other" in methods
    assert routes <= templates(engage_app) | {"unmatched"}, routes
    assert "/spaces/{space_id}/messaging-subscriptions" in routes
    access = [line for line in lines if line.get("logger") == "engage.access"]
    assert len(access) >= len(made_up) * 4
    assert {line["method"] for line in access} <= METHODS | {"other"}
