"""The views read stored JSON themselves only for what they reproduce exactly: the stock
`CattrsMapper` and the stock `EventSettings`. An application given a mapper of its own
(`MAPPER_TOPIC`) has every event read through that mapper, and an outbox given a settings
subclass publishes reports through the typed publisher, which calls the subclass."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from adapters.stores import store_env
from adapters.views import OutboxView, Views, catch_up
from engage_core import EngageApplication
from engage_core.segment import EventSettings
from engage_core.serialisation import CattrsMapper
from tests.views.conftest import rows
from tests.views.workload import apply, workload


class CountingMapper(CattrsMapper):
    """The stock mapper, counting the events it reads back."""

    read: ClassVar[list[str]] = []

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        CountingMapper.read.append(stored_event.topic)
        return super().to_domain_event(stored_event)


class Renamed(EventSettings):
    """Settings that name every event otherwise."""

    def name(self, name: str) -> str:
        return "Renamed " + super().name(name)


def _digests(views: Views) -> dict[str, tuple[int, str]]:
    return {name: view.digest() for name, view in views.by_name.items()}


def test_an_applications_own_mapper_reads_every_event(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    stock = EngageApplication(env=store_env(store))
    own = EngageApplication(env={**store_env(store), "MAPPER_TOPIC": get_topic(CountingMapper)})
    by_stock, by_own = Views(str(tmp_path / "a.views.db")), Views(str(tmp_path / "b.views.db"))
    try:
        for batch in workload(5, messages=5, changes=3):
            apply(stock, batch)
        CountingMapper.read.clear()
        events = catch_up(own, list(by_own.by_name.values()))
        catch_up(stock, list(by_stock.by_name.values()))
        assert len(CountingMapper.read) == events > 0
        assert _digests(by_own) == _digests(by_stock)
    finally:
        by_stock.close()
        by_own.close()
        stock.close()
        own.close()


def test_an_outbox_with_a_settings_subclass_publishes_through_it(app: EngageApplication) -> None:
    """Each report's row is named by the subclass, and a stock outbox in the same process
    keeps its own names (what one outbox named is never another's)."""
    for batch in workload(5, messages=5, changes=0):
        apply(app, batch)
    renamed, stock = Views(":memory:", event_settings=Renamed()), Views(":memory:")
    try:
        names = []
        for views in (renamed, stock):
            outbox = views.by_name[OutboxView.name]
            catch_up(app, [outbox])
            names.append([row[2] for row in rows(outbox)["outbox"]])
        assert len(names[0]) == len(names[1]) > 0
        assert any(name.startswith("Renamed ") for name in names[0])
        assert not any(name.startswith("Renamed ") for name in names[1])  # no name shared
        assert all(name in (was, "Renamed " + was) for name, was in zip(*names, strict=True))
    finally:
        renamed.close()
        stock.close()
