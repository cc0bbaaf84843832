"""A JSON request body for the Tracking and Public APIs, read within its limit whatever it is
wrapped in.

Segment's clients may gzip what they post (`Content-Encoding: gzip`); a few kilobytes of gzip
can inflate to gigabytes, so the body is read under the limit as it streams in (`read_bounded`)
and then inflated under the same limit, never past it: a bomb costs the limit in memory and is
answered 413 like any body over it. Every refusal is the `Answer` it should get (415 for a
type or encoding the route does not take, 413 over the limit, 400 for what is not JSON).
"""

from __future__ import annotations

import zlib
from collections.abc import Collection

import orjson
from starlette.requests import Request

from adapters.providers.base import BodyPrefix
from adapters.web.answers import Answer, refusal_answer
from adapters.web.body import declared_length, read_bounded
from engage_core.limits import SETTINGS, Limits

__all__ = ["BodyRefused", "gunzip_within", "read_json"]

_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # a gzip header and trailer around a deflate stream
_IDENTITY = frozenset({"", "identity"})
_GZIP = frozenset({"gzip", "x-gzip"})


class BodyRefused(Exception):
    """A body the route cannot take, with the answer saying why."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer[0])
        self.answer = answer


class _OverLimit(Exception):
    pass


def gunzip_within(data: bytes, limit: int) -> bytes:
    """`data` inflated (every gzip member of it), never holding more than `limit` + 1 bytes
    of output: `_OverLimit` past the limit, `zlib.error` or `ValueError` if it is not gzip."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(_GZIP_WINDOW)
        out += inflater.decompress(rest, limit + 1 - len(out))
        if len(out) > limit:
            raise _OverLimit
        if not inflater.eof:
            raise ValueError("the gzip stream is cut short")
        rest = inflater.unused_data
    return bytes(out)


def _over(limit: int, what: str, *, cut: bool = False) -> BodyRefused:
    setting = SETTINGS["api_request_bytes"]
    reason = f"{what} over the limit of {limit} bytes ({setting}); nothing was applied"
    close = (("connection", "close"),) if cut else ()  # the rest of the body is never read
    return BodyRefused(refusal_answer(413, reason, *close))


async def read_json(request: Request, limits: Limits, media_types: Collection[str]) -> object:
    """The request's body as JSON, when it is declared as one of `media_types`, encoded as
    nothing or gzip, and at most `limits.api_request_bytes` both as sent and inflated;
    `BodyRefused` otherwise."""
    declared = request.headers.get("content-type", "")
    if declared.partition(";")[0].strip().lower() not in media_types:
        shown = declared[:100] or "missing"
        accepted = " or ".join(sorted(media_types))
        raise BodyRefused(refusal_answer(415, f"Content-Type {shown!r}: send {accepted}"))
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in _IDENTITY | _GZIP:
        raise BodyRefused(refusal_answer(
            415, f"Content-Encoding {encoding[:100]!r}: send gzip or nothing"))  # fmt: skip
    limit = limits.api_request_bytes
    # a client overshooting by up to the limit again still reads its 413; past that, cut
    read = await read_bounded(request.stream(), limit, keep=0, slack=limit,
                              declared=declared_length(request.headers), peek=False)  # fmt: skip
    body = read.body
    if isinstance(body, BodyPrefix):  # refused unread past the limit, never read without end
        raise _over(limit, f"a body of {body.size} bytes is", cut=read.cut)
    if encoding in _GZIP:
        try:
            body = gunzip_within(body, limit)
        except _OverLimit:
            raise _over(limit, "the body inflates") from None
        except (zlib.error, ValueError) as error:
            raise BodyRefused(refusal_answer(400, f"not gzip ({error})")) from None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyRefused(refusal_answer(400, f"not JSON ({error})")) from None
