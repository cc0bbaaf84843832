"""`engage ingest` and `engage quarantine`: provider requests through verification, parsing and
the core; what could not be applied listed and run again."""

from __future__ import annotations

import argparse
import base64
import sys
from typing import Any
from uuid import UUID

from adapters.cli.commands import CommandFailed, UsageError, application, read_input
from adapters.cli.render import dumps
from adapters.providers.base import Headers, InboundRequest, ProviderAdapter
from adapters.providers.ingest import IngestReport, UnverifiedRetryRefused, ingest, retry
from adapters.providers.registry import DEFAULT_CONTENT_TYPES, PROVIDERS, adapter_for
from engage_core.quarantine import HeldEntry


def add_parsers(sub: Any) -> None:
    """Register `ingest` and `quarantine` on the `engage` parser."""
    verb = sub.add_parser(
        "ingest", help="feed one raw provider webhook body through verification and the core"
    )
    verb.add_argument("provider", choices=PROVIDERS)
    verb.add_argument("file", metavar="FILE|-", help="the raw request body, or - for stdin")
    verb.add_argument(
        "--header", action="append", default=[], metavar='"Name: value"',
        help="a request header, as received (repeatable): the signature headers, Content-Type",
    )  # fmt: skip
    verb.add_argument(
        "--url", default="", help="the full URL the provider called (Twilio signs it)"
    )
    verb.add_argument(
        "--no-verify", action="store_true",
        help="skip signature verification (replaying captured payloads you trust)",
    )  # fmt: skip
    verb.set_defaults(handler=ingest_request)

    quarantine = sub.add_parser("quarantine", help="requests held because they did not apply")
    verbs = quarantine.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="held requests, oldest first, as JSON Lines")
    listing.add_argument("--all", action="store_true", help="released ones too")
    listing.set_defaults(handler=list_held)
    again = verbs.add_parser("retry", help="run held requests again, after a fix")
    again.add_argument("ids", nargs="*", metavar="ID", help="entries to retry (default: all held)")
    again.add_argument(
        "--no-verify", action="store_true",
        help="skip signature verification (requests whose signature never verified are only "
        "retried unverified when named by ID)",
    )  # fmt: skip
    again.set_defaults(handler=retry_held)


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
    body = read_input(args.file)
    adapter = _adapter(args.provider)
    request = InboundRequest(body=body, headers=headers, url=url)
    with application(args.store) as app:
        report = ingest(app, adapter, request, verify=not args.no_verify)
    print(dumps(report.as_dict()))
    if report.refused is not None:
        print(f"engage: refused: {report.refused.reason} (held: see `engage quarantine list`)",
              file=sys.stderr)  # fmt: skip
    else:
        _tell(report)
    return _exit_code(report)


def _adapter(provider: str) -> ProviderAdapter:
    try:
        return adapter_for(provider)
    except ValueError as error:
        raise CommandFailed(str(error)) from error


def _entry_json(entry: HeldEntry) -> dict[str, Any]:
    held = entry.request
    try:
        body: dict[str, str] = {"body": held.body.decode("utf-8")}
    except UnicodeDecodeError:
        body = {"body_base64": base64.b64encode(held.body).decode("ascii")}
    return {
        "id": str(entry.id),
        "provider": held.provider,
        "received_at": held.received_at.isoformat(),
        "refused": entry.refused,
        "unauthenticated": entry.unauthenticated,
        "problems": [{"index": p.index, "reason": p.reason} for p in entry.problems],
        "times_held": entry.times_held,
        "retries": entry.retries,
        "released": entry.released,
        "last_retry_verified": entry.last_retry_verified,
        "url": held.url,
        "headers": dict(held.headers),
        **body,
    }


def list_held(args: argparse.Namespace) -> int:
    with application(args.store) as app:
        for entry in app.held(include_released=args.all):
            print(dumps(_entry_json(entry)))
    return 0


def retry_held(args: argparse.Namespace) -> int:
    try:
        wanted = [UUID(text) for text in args.ids]
    except ValueError as error:
        raise UsageError(f"not a quarantine id: {error}") from error
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
                )  # fmt: skip
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
