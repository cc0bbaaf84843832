"""`engage ingest` and `engage quarantine`: provider requests through verification, parsing and
the core; what could not be applied listed and run again."""

from __future__ import annotations

import argparse
import sys
from uuid import UUID

from adapters.cli.commands import _input, application
from adapters.cli.errors import CommandFailed, UsageError
from adapters.cli.limits import limits_from_environment
from adapters.cli.render import dumps
from adapters.providers.base import BodyPrefix, Headers, InboundRequest, ProviderAdapter, read_body
from adapters.providers.ingest import (
    IngestReport,
    NotRetryable,
    UnverifiedRetryRefused,
    ingest,
    refuse_oversized,
    retry,
)
from adapters.providers.registry import DEFAULT_CONTENT_TYPES, adapter_for
from adapters.queries import held_json


def _text(option: str, value: str) -> str:
    """An argument as UTF-8 text (the shell may pass bytes that are not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise UsageError(f"{option} {value!r}: not UTF-8 text") from error
    return value


def _headers(raw: list[str], provider: str) -> Headers:
    pairs = []
    for text in raw:
        name, colon, value = _text("--header", text).partition(":")
        if not colon or not name.strip():
            raise UsageError(f'--header {text!r}: expected "Name: value"')
        pairs.append((name.strip(), value.strip()))
    headers = Headers(pairs)
    if "Content-Type" not in headers:
        pairs.append(("Content-Type", DEFAULT_CONTENT_TYPES[provider]))
    return Headers(pairs)


def _exit_code(report: IngestReport) -> int:
    landed = report.applied + report.duplicates + report.late + report.conflicts
    failed = report.rejected + report.quarantined
    return 1 if failed and not landed else 0


def _tell(report: IngestReport) -> None:
    for error in report.errors:
        print(f"engage: {error}", file=sys.stderr)


def ingest_request(args: argparse.Namespace) -> int:
    headers = _headers(args.header, args.provider)
    url = _text("--url", args.url)
    limits = limits_from_environment()
    body = _read_body(args.file, limits.provider_body_bytes,
                      keep=limits.unauthenticated_body_prefix_bytes)  # fmt: skip
    adapter = _adapter(args.provider)
    with application(args.store) as app:
        if isinstance(body, BodyPrefix):  # over the limit: never held whole
            request = InboundRequest(body=body.prefix, headers=headers, url=url)
            report = refuse_oversized(app, adapter, request, body, limits=limits)
        else:
            request = InboundRequest(body=body, headers=headers, url=url)
            report = ingest(app, adapter, request, verify=not args.no_verify, limits=limits)
    print(dumps(report.as_dict()))
    if report.refused is not None:
        print(f"engage: refused: {report.refused.reason} (held: see `engage quarantine list`)",
              file=sys.stderr)  # fmt: skip
    else:
        _tell(report)
    return _exit_code(report)


def _read_body(name: str, limit: int, *, keep: int) -> bytes | BodyPrefix:
    with _input(name) as stream:
        try:
            return read_body(stream, limit, keep=keep)
        except OSError as error:
            raise CommandFailed(f"cannot read {name}: {error.strerror or error}") from error


def _adapter(provider: str) -> ProviderAdapter:
    try:
        return adapter_for(provider)
    except ValueError as error:
        raise CommandFailed(str(error)) from error


def list_held(args: argparse.Namespace) -> int:
    with application(args.store) as app:
        for entry in app.held(include_released=args.all):
            print(dumps(held_json(entry)))
    return 0


def retry_held(args: argparse.Namespace) -> int:
    try:
        wanted = [UUID(text) for text in args.ids]
    except ValueError as error:
        raise UsageError(f"not a quarantine id: {error}") from error
    limits = limits_from_environment()
    adapters: dict[str, ProviderAdapter] = {}
    still_held = 0
    with application(args.store) as app:
        if wanted:
            entries = []
            for entry_id in wanted:
                entry = app.held_entry(entry_id)
                if entry is None:
                    raise CommandFailed(f"no held request {entry_id} in {args.store}")
                entries.append(entry)
        else:
            entries = list(app.held())
        for entry in entries:
            provider = entry.request.provider
            if provider not in adapters:
                adapters[provider] = _adapter(provider)
            try:
                report = retry(
                    app, adapters, entry, verify=not args.no_verify,
                    allow_unauthenticated=bool(wanted),  # named by the operator
                    limits=limits,
                )  # fmt: skip
            except NotRetryable as refusal:
                # a permanent state, not a failed attempt: it fails the run only when named
                print(f"engage: skipped {refusal}", file=sys.stderr)
                still_held += bool(wanted)
                continue
            except UnverifiedRetryRefused as refusal:
                print(f"engage: skipped {refusal}", file=sys.stderr)
                still_held += 1
                continue
            released = not report.errors
            still_held += not released
            counts = report.as_dict()
            counts.pop("held", None)
            print(dumps({"id": str(entry.id), "released": released, **counts}))
            _tell(report)
    return 1 if still_held else 0
