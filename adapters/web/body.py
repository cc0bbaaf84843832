"""A request body read as it streams in, never held whole when it is over its limit.

The async twin of `adapters.providers.base.read_body`: the chunks are counted as they come;
within the limit the body is kept whole, past it only its first bytes are kept while the rest
is hashed and let go, so a 30 MB body costs the limit in memory, not 30 MB. Reading to the end
lets the client read the 413 (a server that answers mid-upload resets a connection the client
is still writing to) and gives the held entry the whole body's size and SHA-256, as
`engage ingest` keeps it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from adapters.providers.base import BodyPrefix

__all__ = ["read_limited"]


async def read_limited(
    chunks: AsyncIterator[bytes], limit: int, *, keep: int
) -> bytes | BodyPrefix:
    """The whole body when it is at most `limit` bytes; else its first `keep` bytes (never
    more than `limit`), its size and SHA-256."""
    head = bytearray()
    digest = None
    size = 0
    prefix = b""
    async for chunk in chunks:
        size += len(chunk)
        if digest is not None:
            digest.update(chunk)
            continue
        head += chunk
        if len(head) > limit:  # over: from here on only counted and hashed
            digest = hashlib.sha256(head)
            prefix = bytes(head[: min(keep, limit)])
            head = bytearray()
    if digest is None:
        return bytes(head)
    return BodyPrefix(prefix, size, digest.hexdigest())
