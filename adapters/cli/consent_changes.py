"""The consent verbs of `engage` that change consent: `subscriptions set` (the Public API's
shape) and `subscriptions identify` (Segment identify calls)."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from adapters.cli.commands import application
from adapters.cli.errors import CommandFailed
from adapters.cli.limits import check_items, limits_from_environment, read_request
from adapters.cli.render import dumps
from engage_core.consent.api import ItemChanges, ItemFailure, read_identify_call, read_item
from engage_core.consent.events import clamped, first_refusal, request_outcome
from engage_core.consent.rules import SourceKind
from engage_core.counts import Counts

if TYPE_CHECKING:
    from engage_core import EngageApplication


def set_subscriptions(args: argparse.Namespace) -> int:
    limits = limits_from_environment()
    body = read_request(args.file, limits)
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise CommandFailed(f"{args.file}: not JSON ({error})") from error
    items = request.get("subscriptions") if isinstance(request, dict) else None
    if not isinstance(items, list):
        raise CommandFailed(f'{args.file}: expected {{"subscriptions": [...]}}')
    check_items(args.file, len(items), limits)
    # each call is a new request (a PUT sent again applies again), unless the caller names it:
    # then a retry of the same request id is recognised and changes nothing
    request_id = args.request_id or f"request-{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    judged = [
        read_item(item, kind=SourceKind.API, source_id=f"{request_id}:{n:06d}", effective_at=now,
                  recorded_at=now)
        for n, item in enumerate(items)
    ]  # fmt: skip
    with application(args.store) as app:
        changes = [c for j in judged if isinstance(j, ItemChanges) for c in j.changes]
        events = iter(app.change_consent(changes))
        successes: list[Any] = []
        failures: list[Any] = []
        for item in judged:
            if isinstance(item, ItemFailure):
                failures.append(_failure(item.item, item.error_code, item.error_message))
                continue
            decided = [next(events) for _ in item.changes]
            refused = first_refusal(decided)
            if refused is None:  # a stale or repeated item is answered as such
                successes.append({**dict(item.item), "outcome": request_outcome(decided)})
            else:
                failures.append(_failure(item.item, refused.value, f"refused: {refused.value}"))
    print(dumps({"successes": successes, "failures": failures}))
    return 1 if failures and not successes else 0


def _failure(item: Any, code: str, message: str) -> dict[str, Any]:
    return {**dict(item), "errors": [{"code": code, "message": message}]}


def identify(args: argparse.Namespace) -> int:
    """Segment identify calls (one JSON object, or JSON Lines of them): their
    `context.messaging_subscriptions`, with each call's `messageId` as provenance."""
    limits = limits_from_environment()
    calls = _identify_calls(args.file, read_request(args.file, limits))
    # items counted before any is judged (a call without a list of them counts as one)
    contexts = [call.get("context") if isinstance(call, dict) else None for call in calls]
    listed = [c.get("messaging_subscriptions") if isinstance(c, dict) else None for c in contexts]
    check_items(args.file, sum(len(i) if isinstance(i, list) else 1 for i in listed), limits)
    now = datetime.now(UTC)
    judged: list[ItemChanges | ItemFailure] = []
    for number, call in enumerate(calls, start=1):
        judged.extend(read_identify_call(call, number, now))
    with application(args.store) as app:
        counts = {"calls": len(calls), **_apply_identify_items(app, judged)}
    print(dumps(counts))
    return 1 if counts["rejected"] and counts["rejected"] == counts["received"] else 0


def _identify_calls(name: str, body: bytes) -> list[Any]:
    """One JSON object, or JSON Lines of them (blank lines skipped)."""
    try:
        return [orjson.loads(body)]
    except orjson.JSONDecodeError:
        pass
    calls = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            calls.append(orjson.loads(line))
        except orjson.JSONDecodeError as error:
            raise CommandFailed(f"{name}: line {number} is not JSON ({error})") from error
    return calls


# a request's outcome (`request_outcome`, the API's words) as the counts name it
_COUNTED_AS = {"applied": "applied", "stale": "late", "duplicate": "duplicates",
               "unchanged": "unchanged"}  # fmt: skip


def _apply_identify_items(
    app: EngageApplication, judged: list[ItemChanges | ItemFailure]
) -> dict[str, int]:
    """Apply every item's changes in one save; count each item (`Counts`, and how many had
    their time clamped), say why each failed."""
    counts = dict.fromkeys(("applied", "unchanged", "duplicates", "late", "rejected"), 0)
    clamped_items = 0
    changes = [c for j in judged if isinstance(j, ItemChanges) for c in j.changes]
    events = iter(app.change_consent(changes))
    for item in judged:
        if isinstance(item, ItemFailure):
            print(f"engage: {item.error_code}: {item.error_message}", file=sys.stderr)
            counts["rejected"] += 1
            continue
        decided = [next(events) for _ in item.changes]
        refused = first_refusal(decided)
        if refused is not None:
            print(f"engage: {refused.value}: {dict(item.item)}", file=sys.stderr)
            counts["rejected"] += 1
        else:
            counts[_COUNTED_AS[request_outcome(decided)]] += 1
        clamped_items += clamped(decided)
    return {**Counts(received=len(judged), **counts).as_dict(), "clamped": clamped_items}
