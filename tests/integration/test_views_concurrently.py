"""Several processes catching up the same views at once (a CLI run while a service runs, two
workers): each event is applied once, and the result equals a rebuild, row for row."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from adapters.cli.demo import run as drive
from adapters.stores import open_application
from adapters.views import Views, catch_up, rebuild, views_location
from engage_core.simulation import simulate


def _catch_up(url: str) -> dict[str, tuple[int, str]]:
    app = open_application(url)
    views = Views(views_location(url))
    try:
        chosen = list(views.by_name.values())
        catch_up(app, chosen, page=40)  # small pages: many interleavings
        return {view.name: view.digest() for view in chosen}
    finally:
        views.close()
        app.close()


def test_concurrent_catch_ups_apply_each_event_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'engage.db'}"
    app = open_application(url)
    drive(app, simulate(seed=7, messages=120))
    app.close()
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        digests = pool.map(_catch_up, [url] * 3)
    assert digests[0] == digests[1] == digests[2]
    app = open_application(url)
    views = Views(views_location(url))
    rebuild(app, list(views.by_name.values()))
    assert {view.name: view.digest() for view in views.by_name.values()} == digests[0]
    views.close()
    app.close()


def test_a_long_lived_view_does_not_trust_what_another_process_changed(tmp_path: Path) -> None:
    """Two long-lived `Views` on one file (a follower and a one-shot command): what one of
    them remembers between pages must not hide what the other applied, or a rebuild."""
    from engage_core import Observation, Send

    url = f"sqlite:///{tmp_path / 'engage.db'}"
    app = open_application(url)
    follower, other = Views(views_location(url)), Views(views_location(url))
    app.observe([Observation.create("sms", "twilio", "SM1", "queued", event_id="q")])
    catch_up(app, [follower.outbox])  # remembers SM1 with no send record
    app.record_send(Send.create("sms", "twilio", "SM1", to="+12135618345", user_id="u-1"))
    catch_up(app, [other.outbox])  # the other process applies the send record
    app.observe([Observation.create("sms", "twilio", "SM1", "delivered", event_id="d")])
    catch_up(app, [follower.outbox])
    delivered = [e for e in follower.outbox.entries() if e.event == "SMS Delivered"]
    assert delivered[0].body.get("userId") == "u-1"
    live = follower.outbox.digest()
    rebuild(app, [other.outbox])  # and a rebuild by the other process
    app.observe([Observation.create("sms", "twilio", "SM1", "read", event_id="r")])
    catch_up(app, [follower.outbox])
    rebuild(app, [other.outbox])
    assert follower.outbox.digest() == other.outbox.digest()
    assert live != follower.outbox.digest()  # the read landed
    follower.close()
    other.close()
    app.close()
