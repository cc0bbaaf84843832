"""A destination's cursor survives a rebuild of the outbox that numbers events differently (a
newer Engage whose mapping publishes more or fewer events): it is found again by the
messageId of the event it was at, so nothing after it is skipped and nothing is sent twice; with
the outbox and the ledger in either view database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from adapters.destinations import CursorLost, JsonlDestination, Ledger, RetryPolicy, deliver
from adapters.stores import open_application
from adapters.views import catch_up, rebuild
from engage_core import EngageApplication, Observation, Send
from engage_core.message.events import MessageEvent
from engage_core.segment import EventSettings, TrackEvent, message_events
from engage_core.segment import publisher as publisher_module
from tests.views.backends import BACKENDS, ViewBackend

VIEW_BACKENDS = BACKENDS


def messages(app: EngageApplication, first: int, count: int) -> None:
    for n in range(first, first + count):
        sid = f"SM{n}"
        app.observe([
            Send.create("sms", "twilio", sid, to="+12135618345"),
            Observation.create("sms", "twilio", sid, "queued", event_id=f"q{n}"),
            Observation.create("sms", "twilio", sid, "delivered", event_id=f"d{n}"),
        ])  # fmt: skip


def mapping_without(name: str) -> Callable[..., list[TrackEvent]]:
    """The Segment mapping of a newer Engage that no longer publishes the event `name`, to put
    in the publisher's place of `message_events` for a rebuild."""

    def newer(
        event: MessageEvent,
        send: Send | None,
        settings: EventSettings | None = None,
        *,
        processed_published: bool = False,
    ) -> list[TrackEvent]:
        published = message_events(event, send, settings, processed_published=processed_published)
        return [t for t in published if t.event != name]

    return newer


def test_a_renumbering_rebuild_neither_skips_nor_repeats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, view_backend: ViewBackend
) -> None:
    app = open_application("memory://")
    views = view_backend.views(view_backend.location(shared=True))
    ledger = Ledger(views.datastore)
    path = tmp_path / "events.jsonl"
    messages(app, 0, 4)
    catch_up(app, [views.outbox])
    first = deliver(JsonlDestination("file", path), views.outbox, ledger, RetryPolicy())
    assert first.delivered == 12

    # a "newer mapping" that no longer publishes Queued: every position after the first moves
    monkeypatch.setattr(publisher_module, "message_events", mapping_without("SMS Queued"))
    rebuild(app, [views.outbox])
    messages(app, 4, 2)
    catch_up(app, [views.outbox])
    second = deliver(JsonlDestination("file", path), views.outbox, ledger, RetryPolicy())
    assert second.relocated_from == 12
    ids = [orjson.loads(line)["messageId"] for line in path.read_bytes().splitlines()]
    assert len(ids) == len(set(ids))  # none twice
    new = {
        e.message_id
        for e in views.outbox.entries()
        if e.body["properties"]["provider_message_id"] in {"SM4", "SM5"}
    }
    assert new <= set(ids)  # none skipped
    views.close()


def test_a_cursor_whose_event_is_gone_stops_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, view_backend: ViewBackend
) -> None:
    app = open_application("memory://")
    views = view_backend.views(view_backend.location(shared=True))
    ledger = Ledger(views.datastore)
    messages(app, 0, 1)  # processed, queued, delivered: the cursor ends at Delivered
    catch_up(app, [views.outbox])
    deliver(JsonlDestination("file", tmp_path / "e.jsonl"), views.outbox, ledger, RetryPolicy())
    monkeypatch.setattr(publisher_module, "message_events", mapping_without("SMS Delivered"))
    rebuild(app, [views.outbox])
    with pytest.raises(CursorLost, match="replay"):
        deliver(JsonlDestination("file", tmp_path / "e.jsonl"), views.outbox, ledger,
                RetryPolicy())  # fmt: skip
    views.close()
