"""A request body read as it streams in, never held whole when it is over its limit, and never
read without end.

The async twin of `adapters.providers.base.read_body`: the chunks are counted as they come;
within the limit the body is kept whole, past it only its first bytes are kept while the rest
is hashed and let go, so a 30 MB body costs the limit in memory, not 30 MB.

How far past the limit a body is read is bounded too (`read_bounded`), since a chunked body
can be endless and reading it would hold a connection and a CPU for ever:
- a body whose `Content-Length` is over the limit plus `slack` is refused at once: only its
  first bytes (the prefix a held entry keeps) are read, its size is the declared one;
- a body without one is read up to the limit plus `slack`: one that ends by then is measured
  whole (size and SHA-256, as `engage ingest` keeps them, and its client reads the 413 on a
  connection that stays usable); one that goes on is cut there, its size what was read so far
  (a lower bound), and the connection is to be closed (`Read.cut`), since the rest of the
  body is never read.
The digest of a body cut short is of the bytes read, not of the whole body (never seen).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping

import attrs

from adapters.providers.base import BodyPrefix

__all__ = ["SLACK_BYTES", "Read", "declared_length", "read_bounded"]

SLACK_BYTES = 64 * 1024  # read past the limit of a body of unknown length before cutting it


@attrs.frozen
class Read:
    """What was read of a body: the whole of it, or the `BodyPrefix` of one over its limit;
    `cut` when reading stopped before its end (the size is then declared, or a lower bound,
    and the connection must close: the rest of the body is still on its way)."""

    body: bytes | BodyPrefix
    cut: bool = False


async def read_bounded(
    chunks: AsyncIterator[bytes],
    limit: int,
    *,
    keep: int,
    declared: int | None = None,
    peek: bool = True,
    slack: int = SLACK_BYTES,
) -> Read:
    """The whole body when it is at most `limit` bytes; else its first `keep` bytes (never
    more than `limit`), its size and SHA-256. Reading stops early (module docstring): at once
    when `declared` (the `Content-Length`) is over `limit + slack`, after its first `keep`
    bytes unless not `peek` (a client waiting for `100 Continue` is answered before it sends
    any); else after `limit + slack` bytes. A body declared over the limit but within the
    slack is read to its end, so a client that overshoots a little reads its 413 on a
    connection that stays usable instead of a reset."""
    if declared is not None and declared > limit + slack:
        prefix = await _first_bytes(chunks, min(keep, limit)) if peek else b""
        return Read(BodyPrefix(prefix, declared, hashlib.sha256(prefix).hexdigest()), cut=True)
    head = bytearray()
    digest = None
    size = 0
    prefix = b""
    async for chunk in chunks:
        size += len(chunk)
        if digest is not None:
            digest.update(chunk)
        else:
            head += chunk
            if len(head) <= limit:
                continue
            digest = hashlib.sha256(head)  # over: from here on only counted and hashed
            prefix = bytes(head[: min(keep, limit)])
            head = bytearray()
        if size > limit + slack:
            return Read(BodyPrefix(prefix, size, digest.hexdigest()), cut=True)
    if digest is None:
        return Read(bytes(head))
    return Read(BodyPrefix(prefix, size, digest.hexdigest()))


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The body's declared `Content-Length` (None for a chunked body, or none given; the
    server has already refused a malformed one); `headers` looked up by lower-case name."""
    if "transfer-encoding" in headers:
        return None
    value = headers.get("content-length", "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


async def _first_bytes(chunks: AsyncIterator[bytes], count: int) -> bytes:
    """At most the first `count` bytes of the body, reading no chunk past them."""
    head = bytearray()
    if count <= 0:
        return b""
    async for chunk in chunks:
        head += chunk[: count - len(head)]
        if len(head) >= count:
            break
    return bytes(head)
