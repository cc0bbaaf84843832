"""JSON renderings of core values for the CLI (and, later, the web service), and the one
`dumps` every verb prints JSON with: compact, one value a line, unless `--pretty` was given."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from adapters.cli.pretty import pretty_wanted

if TYPE_CHECKING:  # annotations only: the handlers that render have loaded the core already
    from engage_core import Message, ObserveResult


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_json(message: Message) -> dict[str, Any]:
    state = message.state
    send = state.send
    return {
        "message_id": str(state.id),
        "channel": state.channel.value,
        "provider": state.provider,
        "provider_message_id": state.provider_message_id,
        "status": state.status,
        "version": state.version,
        "send": None
        if send is None
        else {
            "to": send.to,
            "user_id": send.user_id,
            "campaign_id": send.campaign_id,
            "campaign_name": send.campaign_name,
            "journey_id": send.journey_id,
            "template_id": send.template_id,
            "email_subject": send.email_subject,
            "sent_at": _time(send.sent_at),
        },
        "engagement": {
            kind: {
                "count": tally.count,
                "first_at": _time(tally.first_at),
                "last_at": _time(tally.last_at),
            }
            for kind, tally in sorted(state.engagement.items())
        },
        "history": [
            {
                "kind": entry.kind,
                "status": entry.status,
                "occurred_at": _time(entry.occurred_at),
                "recorded_at": _time(entry.recorded_at),
                "event_id": entry.event_id,
                "details": dict(entry.details),
                # the report's own time, when it was too far ahead to be taken (docs/consent.md)
                **({"claimed_at": _time(entry.claimed_at)} if entry.claimed_at else {}),
            }
            for entry in message.history
        ],
    }


def result_json(result: ObserveResult) -> dict[str, int]:
    return result.as_dict()


def dumps(value: Any, *, pretty: bool | None = None) -> str:
    """Compact JSON (one line), indented by two when `pretty` (default: `--pretty` given).
    A string that is no UTF-8 (a path argument the shell gave as undecodable bytes, kept by
    Python as lone surrogates) is written with those characters escaped (`\\udc80`), never
    refused: what the command did is still printed."""
    option = orjson.OPT_INDENT_2 if (pretty_wanted() if pretty is None else pretty) else 0
    try:
        return orjson.dumps(value, option=option).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(_printable(value), option=option).decode()


def _printable(value: Any) -> Any:
    """`value` with every string's lone surrogates written as backslash escapes."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value
