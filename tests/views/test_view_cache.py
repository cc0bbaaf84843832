"""The views' large SQLite page cache is held by a connection only while it writes a page: the
pool keeps several connections, and each holding it would multiply the memory of a reader that
gains nothing from it. The write-ahead log's size limit follows the file's page size."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.sqlite import SQLiteCursor

from adapters.views.database import (
    DEFAULT_CACHE_KIB,
    VIEW_CACHE_KIB,
    VIEW_WAL_PAGES,
    SQLiteViewDatabase,
)


def _pragma(cursor: SQLiteCursor, name: str) -> int:
    cursor.execute(f"PRAGMA {name}")
    return int(cursor.fetchone()[0])


def test_only_a_writing_connection_holds_the_large_cache(tmp_path: Path) -> None:
    database = SQLiteViewDatabase(str(tmp_path / "engage.views.db"))
    try:
        with database.datastore.transaction(commit=True) as cursor:
            assert _pragma(cursor, "cache_size") == -VIEW_CACHE_KIB
            page_size = _pragma(cursor, "page_size")
            assert _pragma(cursor, "journal_size_limit") == VIEW_WAL_PAGES * page_size
        with database.datastore.transaction(commit=False) as cursor:
            assert _pragma(cursor, "cache_size") == -DEFAULT_CACHE_KIB
        with database.datastore.transaction(commit=True) as cursor:
            assert _pragma(cursor, "cache_size") == -VIEW_CACHE_KIB
    finally:
        database.close()
