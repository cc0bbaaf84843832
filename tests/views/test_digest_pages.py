"""A digest reads a view a page at a time in both view databases, so `engage digest` of a view
larger than memory works: the memory a digest takes stays near one page's whatever the view's
size (psycopg's ordinary cursor would receive the whole table before the first row is read).

Measured as the growth of the peak resident size of a process that does nothing but the
digest, since the rows PostgreSQL's client library holds are outside Python's own allocator.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from adapters.views import OutboxView
from adapters.views.database import open_view_database
from tests.views.backends import ViewBackend

ROWS, BODY = 12_000, 5_000  # 60 MB of bodies (twice that as PostgreSQL sends bytes, in hex)
ROOT = Path(__file__).parents[2]


def digest_growth(location: str) -> None:
    """In a process of its own: digest the outbox at `location`; print the peak resident
    size's growth in MB."""
    database = open_view_database(location)
    view = OutboxView(database)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows, _ = view.digest()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    database.close()
    print(rows, grown)


def test_a_digest_holds_a_page_at_a_time(view_backend: ViewBackend) -> None:
    location = view_backend.location(shared=True)
    database = view_backend.database(location)
    OutboxView(database)  # its tables
    with database.transaction(commit=True) as cursor:
        cursor.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO outbox (position, message_id, event, source_position, body) "
            "SELECT i, 'm' || i, 'e', i, ? FROM n",
            (ROWS, b"x" * BODY),
        )
    code = f"from {__name__} import digest_growth; digest_growth({location!r})"
    measured = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    rows, grown = measured.stdout.split()
    assert int(rows) == ROWS
    assert float(grown) < 40, f"a digest grew the process by {grown} MB"
