"""`POST /api/subscriptions/csv` and `GET /api/imports/{id}/errors.csv`: `engage subscriptions
import` over HTTP, its failed rows kept as a file to fix and upload again.

The upload (a `text/csv` body, or the `file` field of a `multipart/form-data` form) is
streamed into a spooled temporary file: its first MiB in memory, the rest on disk under
`settings.imports_dir`, so a file of any size costs a bounded amount of memory, and a slow
client never holds a store thread while it uploads. Only then is it imported, in a worker
thread, by the CLI's own importer (`adapters.imports.subscriptions_csv`), rows applied in
batches with the CSV limits of `docs/limits.md`. The whole upload is bounded too, by
`ENGAGE_MAX_CSV_UPLOAD_BYTES` (default 256 MiB): above it nothing is applied (413).

Each import gets a random UUID; its error file is `<imports_dir>/<id>.errors.csv`, served to
whoever holds an API token and the id. The id in a URL is read strictly (the canonical
lower-case spelling `uuid4` gives), so no path can be made of it.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Any
from uuid import uuid4

import anyio.to_thread
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from adapters.imports.subscriptions_csv import ImportStopped
from adapters.imports.subscriptions_csv import import_subscriptions as csv_import
from adapters.queries import import_json
from adapters.web.api_common import (
    BadRequest,
    Query,
    any_text_route,
    error_schema,
    guarded,
    json_response,
)
from adapters.web.runtime import Runtime
from engage_core.consent.csv_format import CsvLimits, HeaderError
from engage_core.limits import GIB, MIB, WHOLE_NUMBER

__all__ = [
    "DEFAULT_UPLOAD_BYTES",
    "OPENAPI_PATHS",
    "OPENAPI_SCHEMAS",
    "UPLOAD_VAR",
    "csv_routes",
    "upload_limit",
]

UPLOAD_VAR = "ENGAGE_MAX_CSV_UPLOAD_BYTES"
DEFAULT_UPLOAD_BYTES = 256 * MIB
MOST_UPLOAD_BYTES = 64 * GIB
IN_MEMORY = 1 * MIB  # what of an upload is kept in memory before it goes to disk
_IMPORT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_COUNTS = ("received", "applied", "unchanged", "duplicates", "late", "conflicts", "partial",
           "rejected", "quarantined")  # fmt: skip

_REPORT: dict[str, Any] = {
    "type": "object", "required": ["id", *_COUNTS],
    "properties": {"id": {"type": "string", "format": "uuid"},
                   **{name: {"type": "integer", "minimum": 0} for name in _COUNTS}},
}  # fmt: skip
OPENAPI_SCHEMAS: dict[str, Any] = {
    "ImportReport": {**_REPORT, "description": "`engage subscriptions import`'s row counts, "
                     "and the import's id (its error file: /api/imports/{id}/errors.csv)"},
    "ImportStopped": {
        "type": "object", "required": ["error", "reason", "id", *_COUNTS],
        "description": "the file stopped being readable part-way: the rows before were "
        "applied (counted here), the rest not",
        "properties": {"error": {"type": "string"}, "reason": {"type": "string"},
                       "field": {"type": "string"}, **_REPORT["properties"]},
    },
}  # fmt: skip



_DENIED = {"401": error_schema("no accepted Bearer token"),
           "503": error_schema("storage unavailable: retry")}  # fmt: skip
OPENAPI_PATHS: dict[str, Any] = {
    "/api/subscriptions/csv": {"post": {
        "operationId": "subscriptions_import",
        "summary": "Apply a Segment subscription CSV, rows in order",
        "security": [{"apiToken": []}],
        "requestBody": {"required": True, "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}}}},
        "responses": {
            "200": {"description": "imported (bad rows counted, kept in the error file)",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ImportReport"}}}},
            "400": error_schema("a bad header or form: nothing applied"),
            "413": error_schema(f"upload over {UPLOAD_VAR}: nothing applied"),
            "415": error_schema("neither text/csv nor multipart/form-data"),
            "422": {"description": "unreadable part-way: the rows before it applied",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ImportStopped"}}}},
            **_DENIED},
    }},
    "/api/imports/{import_id}/errors.csv": {"get": {
        "operationId": "subscriptions_import_errors",
        "summary": "An import's failed rows, fixable and re-uploadable",
        "security": [{"apiToken": []}],
        "parameters": [{"name": "import_id", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1},
                        "description": "the import's id"}],
        "responses": {"200": {"description": "the error file",
                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "400": error_schema("an unknown query parameter"),
                      "404": error_schema("no import with this id"), **_DENIED},
    }},
}  # fmt: skip


def upload_limit(environ: Mapping[str, str]) -> int:
    """`ENGAGE_MAX_CSV_UPLOAD_BYTES` (whole bytes, 1 to 64 GiB), default 256 MiB;
    `ValueError` naming the variable, so a misconfigured service stops at start."""
    text = environ.get(UPLOAD_VAR, "").strip()
    if not text:
        return DEFAULT_UPLOAD_BYTES
    if not WHOLE_NUMBER.fullmatch(text) or not 1 <= int(text) <= MOST_UPLOAD_BYTES:
        raise ValueError(f"{UPLOAD_VAR}: a whole number of bytes from 1 to {MOST_UPLOAD_BYTES}")
    return int(text)


class _Upload:
    """Counts an upload's bytes; past the limit, reads on (so the client can read the 413)
    but passes nothing further."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int) -> None:
        self.chunks, self.limit, self.size = chunks, limit, 0

    @property
    def over(self) -> bool:
        return self.size > self.limit

    async def within(self) -> AsyncGenerator[bytes, None]:
        async for chunk in self.chunks:
            self.size += len(chunk)
            if not self.over:
                yield chunk

    def refused(self) -> BadRequest:
        return BadRequest("body", f"body: over the limit of {self.limit} bytes ({UPLOAD_VAR}); "
                          "nothing was applied", 413)  # fmt: skip


async def _spooled_body(upload: _Upload, directory: Path) -> IO[bytes]:
    """A `text/csv` body, spooled: in memory up to `IN_MEMORY`, then on disk."""
    spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY, dir=str(directory))  # noqa: SIM115
    try:
        async for chunk in upload.within():
            await anyio.to_thread.run_sync(spool.write, chunk)
    except BaseException:
        spool.close()
        raise
    if upload.over:
        spool.close()
        raise upload.refused()
    spool.seek(0)
    return spool


async def _form_file(request: Request, upload: _Upload) -> tuple[IO[bytes], str | None]:
    """The `file` field of a multipart form (Starlette spools it as above), and its name."""
    parser = MultiPartParser(request.headers, upload.within(), max_files=1, max_fields=0)
    try:
        form = await parser.parse()
    except (MultiPartException, ValueError) as error:  # python-multipart's own are ValueErrors
        async for _ in upload.within():  # read to the end, so the client reads the answer
            pass
        if upload.over:
            raise upload.refused() from None
        raise BadRequest("file", f"file: not a usable multipart form ({error})") from None
    found = form.get("file")
    unexpected = [name for name in form if name != "file"]
    if upload.over or not isinstance(found, UploadFile) or unexpected:
        await form.close()
        if upload.over:
            raise upload.refused()
        if unexpected:
            raise BadRequest(unexpected[0], f"unknown form field {unexpected[0][:80]!r} "
                             "(known: file)")  # fmt: skip
        raise BadRequest("file", "file: required, a file field of the form")
    return found.file, found.filename


def _source(filename: str | None) -> str:
    """What the rows' provenance names the file by: the upload's own file name when it is
    plain text, else `upload.csv` (a row's source id is the name, its number and content)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        return "upload.csv"
    return name


def _parameters(text: str) -> dict[str, str]:
    """A content type's `; name=value` parameters, names and values lower-cased, quotes off."""
    found = {}
    for part in text.split(";"):
        name, equals, value = part.partition("=")
        if equals:
            found[name.strip().lower()] = value.strip().strip('"').lower()
    return found


def _media_type(request: Request) -> str:
    declared = request.headers.get("content-type", "")
    media, _, parameters = declared.partition(";")
    media = media.strip().lower()
    if media == "text/csv":  # parameters such as RFC 4180's header=present are welcome
        charset = _parameters(parameters).get("charset", "utf-8")
        if charset not in {"utf-8", "utf8", "us-ascii"}:
            raise BadRequest("content-type", "content-type: a CSV upload is UTF-8", 415)
    elif media != "multipart/form-data":
        raise BadRequest("content-type", "content-type: text/csv or multipart/form-data "
                         f"(got {media[:80]!r})", 415)  # fmt: skip
    return media


def _imported(
    runtime: Runtime, upload: IO[bytes], errors: Path, source: str, limits: CsvLimits
) -> dict[str, int]:
    """Import in a worker thread, the failed rows written to `errors` (removed again unless
    the import answers with its id)."""
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    try:
        with errors.open("w", encoding="utf-8", newline="") as kept:
            return import_json(csv_import(runtime.application(), text, source=source,
                                          errors=kept, limits=limits))  # fmt: skip
    except ImportStopped:
        raise  # the rows before the stop were applied: their error file is kept
    except BaseException:  # nothing to serve: a bad header applied nothing, or the store failed
        errors.unlink(missing_ok=True)
        raise
    finally:
        text.close()


def csv_routes(runtime: Runtime, environ: Mapping[str, str] | None = None) -> list[Route]:
    """The routes, with the CSV limits and the upload limit read from `environ` (default:
    the process environment) now, so a bad setting stops the service at start."""
    env = os.environ if environ is None else environ
    limits, most = CsvLimits.from_environment(env), upload_limit(env)
    directory = Path(runtime.settings.imports_dir)

    async def import_csv(request: Request) -> Response:
        """Spool the upload, then import it; answer the counts and the import's id."""
        Query(request)
        media = _media_type(request)
        await anyio.to_thread.run_sync(lambda: directory.mkdir(parents=True, exist_ok=True))
        upload = _Upload(request.stream(), most)
        if media == "text/csv":
            stream, filename = await _spooled_body(upload, directory), None
        else:
            stream, filename = await _form_file(request, upload)
        import_id = str(uuid4())
        errors = directory / f"{import_id}.errors.csv"
        try:
            counts = await runtime.run(_imported, runtime, stream, errors, _source(filename),
                                       limits)  # fmt: skip
        except HeaderError as error:
            raise BadRequest("file", f"{error}; nothing was applied") from None
        except ImportStopped as stopped:
            raise BadRequest(
                "file",
                f"{stopped}; the rows up to it were applied",
                422,
                id=import_id,
                **import_json(stopped.result),
            ) from None
        finally:
            stream.close()
        runtime.metrics.inputs("csv", counts)
        return json_response({"id": import_id, **counts})

    async def import_errors(request: Request) -> Response:
        """An import's error file; 404 for an id no import was given."""
        Query(request)
        import_id = request.path_params["import_id"]
        path = directory / f"{import_id}.errors.csv"
        if not _IMPORT_ID.fullmatch(import_id) or not await anyio.to_thread.run_sync(path.is_file):
            raise BadRequest("import_id", "import_id: no import with this id", 404)
        return FileResponse(path, media_type="text/csv; charset=utf-8",
                            filename=f"{import_id}.errors.csv")  # fmt: skip

    return [
        Route("/api/subscriptions/csv", guarded(runtime, import_csv), methods=["POST"]),
        any_text_route("/api/imports/{import_id:path}/errors.csv",
                       guarded(runtime, import_errors), "GET"),
    ]  # fmt: skip
