"""The delivery ledger's own promises, in either view database (SQLite, PostgreSQL), told
through the ledger's calls rather than a destination's: a cursor starts once (a second starter
keeps the first one's), moves only from the position its mover last saw (`CursorMoved`
otherwise, and nothing of the move recorded), never by a position of another build of the
outbox (`ViewRebuilt`), and is found again by its anchor after a rebuild renumbered the outbox;
dead letters keep their events whole, list by destination and id, and settle exactly once."""

from __future__ import annotations

import pytest

from adapters.destinations import CursorMoved, Ledger, Parked
from adapters.destinations.ledger import Cursor
from adapters.views import OutboxEntry, catch_up, rebuild
from adapters.views.base import ViewRebuilt
from engage_core.segment import publisher as publisher_module
from tests.destinations.conftest import Outbox, delivered
from tests.destinations.test_rebuilt_outbox import mapping_without, messages
from tests.views.backends import BACKENDS, ViewBackend

VIEW_BACKENDS = BACKENDS


@pytest.fixture
def entries(outbox: Outbox) -> list[OutboxEntry]:
    """Six events in the outbox (positions 1 to 6)."""
    return outbox.add(delivered(6))


def test_a_cursor_starts_once_at_its_event(outbox: Outbox, entries: list[OutboxEntry]) -> None:
    ledger, view = outbox.ledger, outbox.view
    generation = view.generation()
    assert ledger.at("hook") is None
    assert ledger.start("hook", entries[2].position, view, generation) == entries[2].position
    # another process starting the same destination meanwhile keeps the first cursor
    assert ledger.start("hook", 0, view, generation) == entries[2].position
    assert ledger.at("hook") == Cursor(
        entries[2].position, entries[2].message_id, entries[2].source, generation
    )
    assert ledger.anchor("hook") == entries[2].message_id
    assert ledger.start("other", 0, view, generation) == 0
    assert ledger.at("other") == Cursor(0, None, None, generation)  # no event at 0


def test_a_cursor_moves_only_from_where_its_mover_saw_it(
    outbox: Outbox, entries: list[OutboxEntry]
) -> None:
    ledger, view = outbox.ledger, outbox.view
    generation = view.generation()
    ledger.start("hook", 0, view, generation)
    ledger.advance("hook", 0, entries[1].position, [], view, generation)
    assert ledger.at("hook") == Cursor(
        entries[1].position, entries[1].message_id, entries[1].source, generation
    )
    refused = Parked(tuple(entries[2:4]), "HTTP 400", 1)
    with pytest.raises(CursorMoved, match="moved from 0"):  # a second deliverer, behind
        ledger.advance("hook", 0, entries[3].position, [refused], view, generation)
    assert ledger.cursor("hook") == entries[1].position
    assert ledger.dead_letters() == []  # parked in the same transaction: not at all
    with pytest.raises(CursorMoved):
        ledger.relocate("hook", 0, entries[5].position, view, generation)
    assert ledger.cursor("hook") == entries[1].position


def test_a_cursor_never_moves_by_a_position_of_another_build(
    outbox: Outbox, entries: list[OutboxEntry]
) -> None:
    ledger, view = outbox.ledger, outbox.view
    old = view.generation()
    ledger.start("hook", 0, view, old)
    rebuild(outbox.app, [view])  # positions may mean other events now
    parked = Parked(tuple(entries[:2]), "HTTP 400", 1)
    with pytest.raises(ViewRebuilt):
        ledger.advance("hook", 0, entries[1].position, [parked], view, old)
    with pytest.raises(ViewRebuilt):
        ledger.start("new", 0, view, old)
    assert (ledger.cursor("hook"), ledger.at("new"), ledger.dead_letters()) == (0, None, [])
    ledger.relocate("hook", 0, 0, view, view.generation())  # taken into the new build
    assert ledger.at("hook") == Cursor(0, None, None, view.generation())


def test_two_ledgers_on_one_database_see_each_other(
    view_backend: ViewBackend, entries: list[OutboxEntry], outbox: Outbox
) -> None:
    """Two deliverers (processes) on one destination: the second one's move, from a cursor it
    read before the first one moved it, is refused."""
    location = view_backend.location(shared=True)
    first = view_backend.views(location, upstream=outbox.app.name)
    second = view_backend.views(location, upstream=outbox.app.name)
    catch_up(outbox.app, [first.outbox])
    generation = first.outbox.generation()
    ledgers = [Ledger(first.datastore), Ledger(second.datastore)]
    ledgers[0].start("hook", 0, first.outbox, generation)
    seen = ledgers[1].cursor("hook")
    ledgers[0].advance("hook", 0, entries[2].position, [], first.outbox, generation)
    with pytest.raises(CursorMoved):
        ledgers[1].advance("hook", seen or 0, entries[4].position, [], second.outbox, generation)
    assert [ledger.cursor("hook") for ledger in ledgers] == [entries[2].position] * 2


def test_dead_letters_keep_their_events_and_settle_once(
    outbox: Outbox, entries: list[OutboxEntry]
) -> None:
    ledger, view = outbox.ledger, outbox.view
    generation = view.generation()
    ledger.start("hook", 0, view, generation)
    first = Parked(tuple(entries[0:3]), "HTTP 400: bad\x00field", 2)
    ledger.advance("hook", 0, entries[2].position, [first], view, generation)
    ids = ledger.park("file", "replay", [Parked((entries[3],), "disk full", 5),
                                         Parked((entries[4],), "disk full", 5)])  # fmt: skip
    assert len(ids) == 2
    assert ids[0] < ids[1]
    (letter,) = ledger.dead_letters("hook")
    assert (letter.source, letter.reason, letter.attempts) == ("deliver", first.reason, 2)
    assert letter.entries == tuple(entries[0:3])  # the events whole: positions and bodies
    assert [e.body for e in letter.entries] == [e.body for e in entries[0:3]]
    assert [d.id for d in ledger.dead_letters()] == [letter.id, *ids]
    assert [d.id for d in ledger.dead_letters(ids=[ids[1], letter.id])] == [letter.id, ids[1]]

    # a redrive delivered the first event; the second failed again, the third is untried
    still = [Parked((entries[1],), "HTTP 500", 3), Parked((entries[2],), "HTTP 500", 0)]
    assert ledger.settle(letter, still)
    kept, split = ledger.dead_letters("hook")
    assert (kept.id, kept.entries, kept.reason, kept.attempts) == (
        letter.id, (entries[1],), "HTTP 500", 5,
    )  # fmt: skip
    assert (split.source, split.entries, split.attempts) == ("redrive", (entries[2],), 2)
    assert kept.redriven_at is None

    assert ledger.settle(kept, [])
    assert not ledger.settle(kept, [])  # another redrive settled it first
    assert not ledger.settle(kept, still[:1])
    assert [d.id for d in ledger.dead_letters("hook")] == [split.id]
    done = ledger.dead_letters("hook", include_redriven=True)
    assert [(d.id, d.redriven_at is not None) for d in done] == [(kept.id, True), (split.id, False)]


def test_a_cursor_is_found_again_by_its_anchor_after_a_renumbering_rebuild(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, view = outbox.ledger, outbox.view
    messages(outbox.app, 0, 3)  # each: Processed, Queued, Delivered
    catch_up(outbox.app, [view])
    at = list(view.entries())[8]  # the third message's Delivered
    old = view.generation()
    ledger.start("hook", 0, view, old)
    ledger.advance("hook", 0, at.position, [], view, old)
    # a newer mapping that publishes no Queued: every event after the first moves up
    monkeypatch.setattr(publisher_module, "message_events", mapping_without("SMS Queued"))
    rebuild(outbox.app, [view])
    new = view.generation()
    moved = view.position_of(at.message_id)
    assert moved == at.position - 3
    with pytest.raises(ViewRebuilt):  # the old build's positions are no use any more
        ledger.advance("hook", at.position, at.position, [], view, old)
    with pytest.raises(CursorMoved):  # relocated from where it is not
        ledger.relocate("hook", moved, moved, view, new)
    ledger.relocate("hook", at.position, moved, view, new)
    assert ledger.at("hook") == Cursor(moved, at.message_id, at.source, new)
