"""Held requests that keep only a prefix of their body: their size and digest, their identity,
how a later whole arrival completes them, and quarantine events stored before these fields
existed, loaded from a real SQLite store."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import orjson
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from adapters.stores import open_application
from engage_core.ids import name_of, uuid5
from engage_core.quarantine import (
    HeldRequest,
    Hold,
    Problem,
    RequestHeldAgain,
    RequestQuarantined,
    decide_hold,
    evolve_held,
)
from engage_core.serialisation import CattrsMapper, OrjsonTranscoder

MAPPER = CattrsMapper(transcoder=OrjsonTranscoder())
AT = datetime(2026, 1, 1, tzinfo=UTC)


def request(body: bytes) -> HeldRequest:
    return HeldRequest("sendgrid", body, (("Content-Type", "application/json"),),
                       "https://engage.example.com/sg", AT)  # fmt: skip


@given(st.binary(max_size=200), st.integers(0, 250))
def test_a_prefix_keeps_the_whole_bodys_size_digest_and_identity(body: bytes, keep: int) -> None:
    whole = request(body)
    kept = whole.prefix(keep)
    assert kept.body == body[:keep]
    assert (kept.body_size, kept.body_sha256) == (len(body), hashlib.sha256(body).hexdigest())
    assert kept.truncated == (len(body) > keep)
    assert kept.quarantine_id == whole.quarantine_id  # the same request, however much is kept
    assert MAPPER.to_domain_event(MAPPER.to_stored_event(held(kept))).request == kept


def held(req: HeldRequest) -> RequestQuarantined:
    return RequestQuarantined(
        originator_id=req.quarantine_id,
        originator_version=1,
        recorded_at=AT,
        request=req,
        refused=True,
        problems=(Problem(None, "bad signature"),),
        unauthenticated=True,
    )


def test_a_whole_arrival_completes_an_entry_that_kept_a_prefix() -> None:
    body = b'[{"event": "processed"}]' * 10
    first = held(request(body).prefix(8))
    entry = evolve_held(None, first)
    assert entry.request.truncated
    again = decide_hold(entry, Hold(request(body), (Problem(0, "no id"),), refused=False),
                        recorded_at=AT)  # fmt: skip
    assert isinstance(again, RequestHeldAgain)
    assert again.body == body
    completed = evolve_held(entry, again)
    assert (completed.request.body, completed.request.truncated) == (body, False)
    # a second prefix-only arrival carries no body and takes nothing away
    prefix_again = decide_hold(completed, Hold(request(body).prefix(8), (), refused=True),
                               recorded_at=AT)  # fmt: skip
    assert isinstance(prefix_again, RequestHeldAgain)
    assert prefix_again.body is None
    assert evolve_held(completed, prefix_again).request.body == body


def test_quarantine_events_stored_before_v2_still_load(tmp_path: Path) -> None:
    body = b'[{"event": "processed"}]'
    old_id = uuid4()
    v1_quarantined = {  # as the v1 mapper wrote it: no class_version, no size or digest
        "recorded_at": "2026-01-01T00:00:00+00:00",
        "request": {
            "provider": "sendgrid", "body": base64.b85encode(body).decode(),
            "headers": [["Content-Type", "application/json"]],
            "url": "https://engage.example.com/sg", "received_at": "2026-01-01T00:00:00+00:00",
        },
        "refused": False, "problems": [{"index": 0, "reason": "sg_message_id: required"}],
        "unauthenticated": False,
    }  # fmt: skip
    v1_again = {"recorded_at": "2026-01-02T00:00:00+00:00",
                "received_at": "2026-01-02T00:00:00+00:00", "headers": [], "refused": False,
                "problems": [{"index": 0, "reason": "sg_message_id: required"}],
                "unauthenticated": False}  # fmt: skip
    app = open_application(f"sqlite:///{tmp_path / 'engage.db'}")
    try:
        app.recorder.insert_events([
            StoredEvent(old_id, 1, RequestQuarantined.TOPIC, orjson.dumps(v1_quarantined)),
            StoredEvent(old_id, 2, RequestHeldAgain.TOPIC, orjson.dumps(v1_again)),
        ])  # fmt: skip
        (entry,) = app.held()
    finally:
        app.close()
    assert (entry.id, entry.times_held) == (old_id, 2)
    assert entry.request.body == body
    assert (entry.request.body_size, entry.request.truncated) == (len(body), False)
    assert entry.request.body_sha256 == hashlib.sha256(body).hexdigest()
    # the identity a v1 hold had (its whole body's digest) is the one it has now
    v1_identity = uuid5(name_of("quarantine", "sendgrid", "https://engage.example.com/sg",
                                hashlib.sha256(body).hexdigest()))  # fmt: skip
    assert entry.request.quarantine_id == v1_identity
    stored = MAPPER.to_stored_event(
        RequestQuarantined(originator_id=old_id, originator_version=1, recorded_at=AT,
                           request=entry.request, refused=False, problems=entry.problems)
    )  # fmt: skip
    assert orjson.loads(stored.state)["class_version"] == 2
