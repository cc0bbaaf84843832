"""The embedded default: one JSON object per line (the Segment body plus its outbox
`position`), appended to a file and fsynced before the cursor moves. When a batch would take
the file past `max_bytes`, the file is rotated first, as logrotate does: `events.jsonl` becomes
`events.1.jsonl`, the older ones shift up (`.1` → `.2`, …), and nothing is ever deleted."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import orjson

from adapters.destinations.base import Batch, Destination, TransientFailure
from adapters.views import OutboxEntry

DEFAULT_MAX_BYTES = 100 * 1024 * 1024


class JsonlDestination(Destination):
    def __init__(
        self,
        name: str,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        batch_size: int = 1000,
        fsync: bool = True,
    ) -> None:
        super().__init__(name, batch_size=batch_size)
        self.path = path
        self.max_bytes = max_bytes
        self.fsync = fsync

    def encode(self, entry: OutboxEntry) -> bytes:
        return orjson.dumps({**entry.body, "position": entry.position}) + b"\n"

    def send(self, batch: Batch) -> None:
        try:
            self._write(batch.encoded)
        except OSError as error:
            raise TransientFailure(f"cannot write {self.path}: {error.strerror or error}") from None

    def _write(self, lines: tuple[bytes, ...]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        size = self.path.stat().st_size if self.path.exists() else 0
        chunk: list[bytes] = []
        if size and not self._ends_with_newline():
            chunk.append(b"\n")  # a line cut short by a crash stays a line of its own
            size += 1  # and that byte is in the file too: it counts against max_bytes
        for line in lines:
            # a line longer than max_bytes still gets a file of its own
            if size and size + len(line) > self.max_bytes:
                self._append(chunk)
                self._rotate()
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        self._append(chunk)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as stream:
            stream.seek(-1, os.SEEK_END)
            return stream.read(1) == b"\n"

    def _append(self, chunk: list[bytes]) -> None:
        if not chunk:
            return
        created = not self.path.exists()
        with self.path.open("ab") as stream:
            stream.write(b"".join(chunk))
            stream.flush()
            if self.fsync:
                os.fsync(stream.fileno())
        if created:
            self._sync_directory()  # a new file's name is in the directory, not the file

    def _sync_directory(self) -> None:
        """fsync the file's directory: creating and renaming files changes the directory, and
        until it is synced a power cut may undo the change (a rotated file back under its old
        name, a new file gone) after the cursor moved past what they hold."""
        if not self.fsync:
            return
        try:
            descriptor = os.open(self.path.parent, os.O_RDONLY)
        except OSError:  # some platforms cannot open a directory; nothing more to do there
            return
        try:
            os.fsync(descriptor)
        except OSError as error:
            if error.errno != errno.EINVAL:  # a file system that cannot sync directories
                raise
        finally:
            os.close(descriptor)

    def rotated(self, number: int) -> Path:
        """`events.jsonl` → `events.<number>.jsonl`."""
        return self.path.with_name(f"{self.path.stem}.{number}{self.path.suffix}")

    def _rotate(self) -> None:
        if not self.path.exists():
            return
        last = 1
        while self.rotated(last).exists():
            last += 1
        for number in range(last, 1, -1):
            self.rotated(number - 1).rename(self.rotated(number))
        self.path.rename(self.rotated(1))
        self._sync_directory()

    def describe(self) -> dict[str, object]:
        return {"type": "jsonl", "path": str(self.path), "max_bytes": self.max_bytes}
