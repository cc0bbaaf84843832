"""The view backends the destination contract delivers from: every destination's suite runs
with its outbox and delivery ledger in SQLite and again in PostgreSQL (tests/views/backends.py),
so the promises of `DestinationContract` hold whichever database keeps the cursors."""

from tests.views.conftest import view_backend, views_database_url

__all__ = ["view_backend", "views_database_url"]
