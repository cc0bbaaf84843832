"""Values nested near orjson's depth bound (255 levels) in a signed SendGrid batch: every event
is applied, held with a reason, or the body refused with one; none raises out of `ingest`.

A value that encodes alone but not one level down, inside the stored event, used to pass the
checks and fail at save time, taking the whole batch with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.providers.ingest import ingest
from adapters.providers.sendgrid import SendGridAdapter
from adapters.stores import open_application
from tests.providers.test_ingest import delivered, sendgrid_request
from tests.providers.test_sendgrid import PUBLIC_KEY


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


def _stdlib_json(events: list[object]) -> bytes:
    return json.dumps(events).encode()  # the stdlib encoder: no depth bound of its own here


@pytest.mark.parametrize("depth", range(249, 257))
@pytest.mark.parametrize("field", ["extra", "url"])
def test_a_deep_value_is_applied_held_or_refused_never_raised(
    tmp_path: Path, depth: int, field: str
) -> None:
    app = open_application(f"sqlite:///{tmp_path / 'engage.db'}")
    try:
        deep = {**delivered("deep", 1), "event": "click", field: _nested(depth)}
        report = ingest(
            app,
            SendGridAdapter(PUBLIC_KEY),
            sendgrid_request([deep, delivered("ok", 2)], _stdlib_json),
        )
        counts = report.counts
        if report.refused is not None:
            assert "cannot be stored" in str(report.refused)
            assert counts.rejected == 1
        else:
            assert counts.received == 2
            assert counts.applied + counts.quarantined == 2
            assert counts.applied >= 1  # the plain event always lands
            if counts.quarantined:
                assert any("details" in error for error in report.errors)
    finally:
        app.close()
