"""The handlers behind the core `engage` verbs. Each returns an exit code or raises one of the
two errors of `adapters.cli.errors`, which `main` turns into a one-line message."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from uuid import UUID

import attrs
import orjson
from eventsourcing.persistence import PersistenceError

from adapters.cli.demo import report as demo_report
from adapters.cli.demo import run as demo_run
from adapters.cli.errors import CommandFailed, UsageError
from adapters.cli.progress import progress_bar
from adapters.cli.render import dumps, result_json
from adapters.cli.reopening import open_retrying
from adapters.imports.subscriptions_csv import ImportStopped
from adapters.imports.subscriptions_csv import import_subscriptions as csv_import
from adapters.queries import NotFound, import_json, message_by_id, message_by_provider_id
from adapters.redaction import redact_url
from adapters.stores import open_application
from adapters.stores.configure import configuration_from_environment
from adapters.views import Views, catch_up, views_location
from engage_core import (
    Channel,
    ConcurrentWriteError,
    EngageApplication,
    InvalidInput,
    Observation,
    ObserveResult,
    Send,
    parse_observation,
)
from engage_core.consent.csv_format import CsvLimits, CsvLimitSettingError, HeaderError, RowError
from engage_core.limits import DEFAULT_LIMITS, SETTINGS, Limits
from engage_core.serialisation import UnreadableEventError
from engage_core.simulation import simulate

# What a store can throw at us that is about the store, not about Engage: reported, not traced.
_STORE_ERRORS = (PersistenceError, sqlite3.Error, UnreadableEventError)


@contextmanager
def application(store: str, *, wait: bool = False) -> Iterator[EngageApplication]:
    """The store's application for one command; with `wait` (a `--follow` worker), a store
    that cannot be reached yet is waited for rather than the command's end."""
    try:  # the deployment's settings (adapters.stores.configure), checked before the store
        configuration_from_environment(os.environ)
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        app = open_retrying(
            lambda: open_application(store), f"store {redact_url(store)}", wait=wait
        )
    except (*_STORE_ERRORS, OSError) as error:
        raise CommandFailed(f"cannot open store {store}: {error}") from error
    try:
        yield app
    except _STORE_ERRORS as error:
        raise CommandFailed(f"store {store} could not be used: {error}") from error
    finally:
        app.close()


def read_input(name: str) -> bytes:
    """A whole input file (or stdin, `-`) as bytes; a clear error when it cannot be read."""
    with _input(name) as stream:
        try:
            return stream.read()
        except OSError as error:
            raise CommandFailed(f"cannot read {name}: {error.strerror or error}") from error


@contextmanager
def _input(name: str) -> Iterator[BinaryIO]:
    if name == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = Path(name).open("rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise CommandFailed(f"cannot read {name}: {error.strerror or error}") from error
    with stream:
        yield stream


@attrs.frozen
class Rejected:
    """An input line that could not be accepted, and why."""

    line: int
    reason: str


def _read_observations(
    stream: BinaryIO, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Observation | Rejected]:
    """Parse JSON Lines one line at a time; blank lines are skipped. Memory stays near the line
    limit whatever the input: a line over it is rejected with its size, and the rest of it is
    read in small chunks and let go, never held whole."""
    limit = limits.observation_line_bytes
    number = 0
    while raw := stream.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            size = len(raw) + _skip_line(stream)
            setting = SETTINGS["observation_line_bytes"]
            yield Rejected(number, f"line is {size} bytes, over the limit of {limit} ({setting})")
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark, as some editors write: not content
        if not raw.strip():
            continue
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            yield Rejected(number, f"not valid JSON ({error})")
            continue
        try:
            yield parse_observation(data, limits=limits)
        except InvalidInput as error:
            yield Rejected(number, str(error))


def _skip_line(stream: BinaryIO, chunk: int = 64 * 1024) -> int:
    """Read past the rest of the current line in `chunk`-sized pieces; its bytes, without the
    line ending."""
    skipped = 0
    while piece := stream.readline(chunk):
        if piece.endswith(b"\n"):
            return skipped + len(piece) - 1
        skipped += len(piece)
    return skipped


def observe(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    from adapters.cli.limits import limits_from_environment  # it imports this module

    limits = limits_from_environment()
    result = ObserveResult()
    with _input(args.file) as stream, application(args.store) as app:
        batch: list[Observation | Send] = []
        try:
            for item in _read_observations(stream, limits):
                if isinstance(item, Rejected):
                    print(f"engage: rejected line {item.line}: {item.reason}", file=sys.stderr)
                    result += ObserveResult(received=1, rejected=1)
                    continue
                batch.append(item)
                if len(batch) >= args.batch_size:
                    result += app.observe(batch)
                    batch = []
            result += app.observe(batch)
        except (ConcurrentWriteError, *_STORE_ERRORS) as error:
            # what was saved stays saved: say how far we got, then why we stopped
            print(dumps(result_json(result)))
            saved = result.received - result.rejected
            raise CommandFailed(
                f"stopped: {saved} inputs were saved before this (and {result.rejected} lines "
                f"rejected); the batch of {len(batch)} in hand was not saved: {error}"
            ) from error
    print(dumps(result_json(result)))
    return 1 if result.received and result.rejected == result.received else 0


def message(args: argparse.Namespace) -> int:
    with application(args.store) as app:
        try:
            if args.message_id:
                try:
                    wanted = UUID(args.message_id)
                except ValueError as error:
                    raise UsageError(f"--id {args.message_id!r} is not a UUID") from error
                answer = message_by_id(app, wanted)
            else:
                if not args.channel:
                    raise UsageError("--provider-message-id needs --channel")
                channel = Channel(args.channel)
                answer = message_by_provider_id(
                    app, channel, args.provider_message_id, args.provider
                )
        except NotFound as error:
            raise CommandFailed(f"{error} in {args.store}") from None
        print(dumps(answer))
    return 0


def import_subscriptions(args: argparse.Namespace) -> int:
    try:  # the `ENGAGE_CSV_MAX_*` settings (docs/consent.md); a bad one is a usage error
        limits = CsvLimits.from_environment(os.environ)
    except CsvLimitSettingError as error:
        raise UsageError(str(error)) from error
    try:
        stream = Path(args.file).open(encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as error:
        raise CommandFailed(f"cannot read {args.file}: {error.strerror or error}") from error
    errors = None
    if args.errors and Path(args.errors).resolve() == Path(args.file).resolve():
        stream.close()
        raise UsageError("--errors must not be the file being imported")
    if args.errors:
        try:
            errors = Path(args.errors).open("w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as error:
            stream.close()
            raise CommandFailed(f"cannot write {args.errors}: {error.strerror or error}") from error

    def report(error: RowError) -> None:
        print(
            f"engage: row {error.row_number}: {error.error_code}: {error.error_message}",
            file=sys.stderr,
        )

    try:
        with stream, application(args.store) as app, progress_bar(stream) as on_batch:
            result = csv_import(
                app, stream, source=Path(args.file).name, errors=errors,
                on_error=report, on_batch=on_batch, limits=limits,
            )  # fmt: skip
    except HeaderError as error:
        raise CommandFailed(f"{args.file}: {error}; nothing was applied") from error
    except ImportStopped as stopped:
        print(dumps(import_json(stopped.result)))
        raise CommandFailed(f"{args.file}: {stopped}; the rows up to it were applied") from stopped
    finally:
        if errors is not None:
            errors.close()
    print(dumps(import_json(result)))
    return 1 if result.received and result.rejected == result.received else 0


def demo(args: argparse.Namespace) -> int:
    if args.messages < 1:
        raise UsageError("--messages must be at least 1")
    traffic = simulate(seed=args.seed, messages=args.messages)
    with application(args.store) as app:
        try:
            views = Views(views_location(args.store), upstream=app.name)
        except ValueError as error:  # a bad setting (ENGAGE_VIEW_PAGE_SIZE, …)
            raise UsageError(str(error)) from None
        result, messages = demo_run(app, traffic)
        try:
            catch_up(app, list(views.by_name.values()), page=views.page)
            published = views.outbox.last_position()
        finally:
            views.close()
    print(demo_report(args.store, args.seed, result, messages))
    print(
        f"\nSegment-spec events published so far: {published:,}"
        "  (.venv/bin/engage events --limit 5; .venv/bin/engage deliver --once)"
    )
    return 0
