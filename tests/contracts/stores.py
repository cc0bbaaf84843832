"""A real store for the contracts: the application on a SQLite file (with the batching recorder
`engage --store sqlite:///…` installs) and its outbox view beside it, plus the readings the
contracts compare before and after (the log's notifications, what the outbox published)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adapters.stores.sqlite import BatchingSQLiteApplicationRecorder
from adapters.views import OutboxEntry, Views, catch_up, views_location
from engage_core import EngageApplication
from tests.conftest import FIXED_TIME, sqlite_env


class ContractStore:
    """An application on a SQLite file with a fixed clock (so reports compare exactly), and
    the outbox view next to it, as `engage` lays them out."""

    def __init__(self, directory: Path) -> None:
        path = directory / "engage.db"
        self.app = EngageApplication(env=sqlite_env(path), clock=lambda: FIXED_TIME)
        assert isinstance(self.app.recorder, BatchingSQLiteApplicationRecorder)
        self.views = Views(views_location(f"sqlite:///{path}"), upstream=self.app.name)

    def position(self) -> int:
        """The log's last notification id (0: empty)."""
        return self.app.recorder.max_notification_id() or 0

    def topics_after(self, position: int) -> list[str]:
        """The topics of the notifications written after `position`, in log order."""
        found = self.app.recorder.select_notifications(
            start=position, limit=100_000, inclusive_of_start=False
        )
        return [notification.topic for notification in found]

    def published(self) -> list[OutboxEntry]:
        """Everything the outbox has published, brought up to date with the log first."""
        catch_up(self.app, [self.views.outbox])
        return list(self.views.outbox.entries())

    def close(self) -> None:
        self.views.close()
        self.app.close()


@contextmanager
def contract_store() -> Iterator[ContractStore]:
    """A store in a fresh temporary directory, for one test (or one Hypothesis run: pytest's
    function-scoped `tmp_path` would be shared by every example)."""
    with tempfile.TemporaryDirectory(prefix="engage-contract-") as directory:
        store = ContractStore(Path(directory))
        try:
            yield store
        finally:
            store.close()
