"""Progress bars for long imports and for catching views up with the log, on a terminal only:
piped or captured output stays clean JSON (and a CI log stays free of redraws). rich is
imported only when a bar is drawn."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO


@contextmanager
def progress_bar(stream: TextIO, *, force: bool = False) -> Iterator[Callable[[Any], None]]:
    """Yield a callback that moves a bar over `stream`'s file by the bytes read so far (what
    the reader has taken from the file, read ahead in chunks, so it leads slightly).

    Drawn on stderr when it is a terminal (or `force`), else the callback does nothing."""
    size = _size(stream)
    if size is None or not (force or sys.stderr.isatty()):
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True, force_terminal=force or None)
    columns = (
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("import", total=size, rows=0)

        def advance(counts: Any) -> None:
            bar.update(task, completed=_position(stream), rows=getattr(counts, "received", 0))

        yield advance
        bar.update(task, completed=size)


@contextmanager
def log_bar(label: str, *, force: bool = False) -> Iterator[Callable[[int, int], None]]:
    """Yield a callback `(position reached, last position in the log)` that moves a bar
    labelled `label` (a rebuild, a catch-up) over stderr when it is a terminal (or `force`);
    elsewhere the callback does nothing. The bar goes away when done (transient)."""
    if not (force or sys.stderr.isatty()):
        yield lambda _, __: None
        return
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True, force_terminal=force or None)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(position: int, last: int) -> None:
            bar.update(task, completed=position, total=last)

        yield advance


def _size(stream: TextIO) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        return None  # stdin pipe, in-memory text: no total to show


def _position(stream: TextIO) -> int:
    buffer = getattr(stream, "buffer", None)
    try:
        return int(buffer.tell()) if buffer is not None else 0
    except (OSError, ValueError):
        return 0
