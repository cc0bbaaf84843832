"""The consent verbs of `engage` that change consent: `subscriptions set` (the Public API's
shape) and `subscriptions identify` (Segment identify calls).

What a request does is `adapters.consent_requests`' (the web service's APIs call the same
functions); here the request is read from a file, checked against the limits, and answered
on stdout, with each rejected identify item named on stderr.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from adapters.cli.commands import application
from adapters.cli.errors import CommandFailed
from adapters.cli.limits import check_items, limits_from_environment, read_request
from adapters.cli.render import dumps
from adapters.consent_requests import (
    RequestRefused,
    apply_identify_calls,
    identify_item_count,
    replace_subscriptions,
    subscription_items,
)


def set_subscriptions(args: argparse.Namespace) -> int:
    limits = limits_from_environment()
    body = read_request(args.file, limits)
    try:
        items = subscription_items(orjson.loads(body))
    except orjson.JSONDecodeError as error:
        raise CommandFailed(f"{args.file}: not JSON ({error})") from error
    except RequestRefused as error:
        raise CommandFailed(f"{args.file}: {error}") from error
    check_items(args.file, len(items), limits)
    # each call is a new request (a PUT sent again applies again), unless the caller names it:
    # then a retry of the same request id is recognised and changes nothing
    request_id = args.request_id or f"request-{uuid.uuid4().hex}"
    with application(args.store) as app:
        answer = replace_subscriptions(app, items, request_id=request_id, now=datetime.now(UTC))
    print(dumps(answer))
    return 1 if answer["failures"] and not answer["successes"] else 0


def identify(args: argparse.Namespace) -> int:
    """Segment identify calls (one JSON object, or JSON Lines of them): their
    `context.messaging_subscriptions`, with each call's `messageId` as provenance."""
    limits = limits_from_environment()
    calls = _identify_calls(args.file, read_request(args.file, limits))
    # items counted before any is judged (a call without a list of them counts as one)
    check_items(args.file, identify_item_count(calls), limits)
    now = datetime.now(UTC)
    with application(args.store) as app:
        result = apply_identify_calls(app, enumerate(calls, start=1), now=now)
    for code, reason in result.rejections:
        print(f"engage: {code}: {reason}", file=sys.stderr)
    counts = {"calls": len(calls), **result.counts}
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
