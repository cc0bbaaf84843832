"""`engage rebuild` and `engage digest` know the new views, on real SQLite files: a rebuild
reports the digests a later digest (caught up live) agrees with, and a SQLite store's views are
in the file beside it (SQLite-only: that the views on PostgreSQL agree with SQLite's is the
rest of this suite, run on both, and tests/integration/test_postgres_views.py)."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.views import VIEW_CLASSES
from tests.cli.test_cli import engage


def test_rebuild_and_digest_cover_every_view_in_the_sqlite_views_file(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'engage.db'}"
    assert engage("--store", store, "demo", "--messages", "40").returncode == 0
    csv = tmp_path / "subscriptions.csv"
    csv.write_text("email,email_subscription_status\nann@example.com,subscribed\n")
    assert engage("--store", store, "subscriptions", "import", str(csv)).returncode == 0
    digest = engage("--store", store, "digest")
    assert digest.returncode == 0, digest.stderr
    live = json.loads(digest.stdout)
    rebuilt = engage("--store", store, "rebuild", "--all")
    assert rebuilt.returncode == 0, rebuilt.stderr
    again = json.loads(rebuilt.stdout)
    assert set(live) == set(again) == set(VIEW_CLASSES)
    for name in VIEW_CLASSES:
        assert live[name]["rows"] > 0, name
        assert (again[name]["digest"], again[name]["position"]) == (
            live[name]["digest"], live[name]["position"],
        ), name  # fmt: skip
    assert (tmp_path / "engage.views.db").exists()
