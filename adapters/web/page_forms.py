"""What a contact's page posts: a form, read within bounds its own pages fit, parsed strictly.

A page's body is capped at `BODY_LIMIT` (413 past it, the rest never read) and at
`MAX_FIELDS` fields, both derived from the largest form a page of its own can post: the
preference page shows at most `MAX_GROUPS` groups (`page_consent.contact_view`), each posted as
two fields (`group`, `subscribed`) holding its name, and a name is at most 75 characters that
a browser URL-encodes to at most 12 bytes each (4 UTF-8 bytes, each `%XX`). So whatever its
groups are called, the page's own Save always fits; multipart (what RFC 8058 mail clients
prefer) carries the same fields in fewer bytes. Both encodings a form may use are
read: `application/x-www-form-urlencoded` (what a browser posts, and what most mail clients
send for a one-click unsubscribe) and `multipart/form-data` (what RFC 8058 asks mail clients
to prefer); any other type is 415, text that is not UTF-8 or a malformed body is 400. Only the
names a page asked for are accepted (`Form`): an unknown one is a 400 that names it. A body
read leniently (`strict=False`, for RFC 8058's one-click, which mail clients post in more ways
than a browser) is not held to the letter of the encoding: empty fields and text that is not
UTF-8 are let be, for its reader to pick out the one field it needs.

`PageError` is how anything here (or the store work behind a page) refuses a request: a status,
a heading and a sentence fit to show whoever followed the link, never a detail that helps
forge one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from adapters.providers.base import BodyPrefix
from adapters.web.body import declared_length, read_bounded
from engage_core.consent.contacts import MAX_GROUP_NAME

__all__ = ["BODY_LIMIT", "MAX_FIELDS", "MAX_GROUPS", "Form", "PageError", "read_form"]

MAX_GROUPS = 100  # the groups a preference page shows, the first in the order the address got them
_NAME_BYTES = MAX_GROUP_NAME * 4 * 3  # a name URL-encoded: 4 UTF-8 bytes a character, each %XX
_GROUP_BYTES = len("&group=&subscribed=") + 2 * _NAME_BYTES  # a group's two fields
BODY_LIMIT = 16 * 1024 + MAX_GROUPS * _GROUP_BYTES  # the channel's field and room to spare
MAX_FIELDS = 1 + 2 * MAX_GROUPS + 8  # the channel's, two a group, and a few to spare
_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


class PageError(Exception):
    """A request a page refuses: `status`, a `heading` and a `message` for the person who
    followed the link; `close` when the body was left unread (the connection must close)."""

    def __init__(self, status: int, heading: str, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.heading, self.message, self.close = status, heading, message, close


def _bad(message: str) -> PageError:
    return PageError(400, "This form could not be read", message)


async def read_form(request: Request, *, strict: bool = True) -> list[tuple[str, str]]:
    """The posted form's fields, in order: 413 over `BODY_LIMIT`, 415 for a body that is not a
    form, 400 for one that cannot be read (strictly: one not well formed)."""
    read = await read_bounded(
        request.stream(), BODY_LIMIT, keep=0, declared=declared_length(request.headers),
        peek="100-continue" not in request.headers.get("expect", "").lower(),
    )  # fmt: skip
    if isinstance(read.body, BodyPrefix):
        limit = f"A form here is at most {BODY_LIMIT // 1024} KiB."
        raise PageError(413, "Too much was sent", limit, close=read.cut)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if read.body == b"" and not media:  # a form with no fields, as `curl -X POST` sends it
        return []
    if media == _URLENCODED:
        return _urlencoded(read.body, strict)
    if media == _MULTIPART:
        return await _multipart(request.headers, read.body)
    raise PageError(415, "This form could not be read",
                    f"A form is sent as {_URLENCODED} or {_MULTIPART}.")  # fmt: skip


def _urlencoded(body: bytes, strict: bool) -> list[tuple[str, str]]:
    errors = "strict" if strict else "replace"
    try:
        text = body.decode("utf-8", errors)
        return parse_qsl(text, keep_blank_values=True, strict_parsing=strict, errors=errors,
                         max_num_fields=MAX_FIELDS)  # fmt: skip
    except ValueError:  # UnicodeDecodeError is one
        raise _bad("The form's fields are not well formed (UTF-8, name=value&...).") from None


async def _multipart(headers: Headers, body: bytes) -> list[tuple[str, str]]:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(headers, stream(), max_files=0, max_fields=MAX_FIELDS,
                             max_part_size=BODY_LIMIT)  # fmt: skip
    try:
        form = await parser.parse()
    except MultiPartException:  # a file, too many fields, no boundary, a broken part
        raise _bad("The multipart form is not well formed, or holds a file.") from None
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    if len(fields) != len(form.multi_items()):
        raise _bad("The form holds a file.")
    return fields


class Form:
    """A posted form whose every field name is one of `known` (else a 400 naming it)."""

    def __init__(self, fields: Iterable[tuple[str, str]], *known: str) -> None:
        self._fields = list(fields)
        for name, _ in self._fields:
            if name not in known:
                raise _bad(f"The form has a field this page does not have: {name[:60]!r}.")

    def all(self, name: str) -> list[str]:
        return [value for field, value in self._fields if field == name]

    def one(self, name: str) -> str | None:
        """The field's value; None when absent; a 400 when given more than once."""
        values = self.all(name)
        if len(values) > 1:
            raise _bad(f"The field {name!r} was given {len(values)} times.")
        return values[0] if values else None
