"""Provider-shaped strategies: what Twilio, SendGrid and Meta post about a message's life, as
raw requests (URL, headers, the body's exact bytes), signed as each provider signs them.

They draw a legal walk of the message's lifecycle (`lifecycles`) and write each report the
provider makes of it with the request builders of `engage_core.simulation.requests`, the same
ones Engage's simulator uses, so a service under test meets the bytes it meets in production.
A status the provider never reports (Engage's own `processed` on Twilio, `sending` on Meta) is
left out of its requests. Put the requests through `disorder` for retries and reordering.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from engage_core.channels import Channel
from engage_core.observations import Observation, Send
from engage_core.simulation.requests import (
    ProviderRequest,
    meta_notification,
    meta_status,
    meta_text_message,
    sendgrid_batch,
    sendgrid_event,
    twilio_callback,
    twilio_inbound_params,
    twilio_status_params,
)
from engage_core.simulation.signing import test_keys
from engage_core.testing.strategies import lifecycles, sends

__all__ = ["meta_notifications", "sendgrid_batches", "twilio_callbacks"]

TWILIO_URL = "https://engage.example.com/webhooks/twilio"
SENDGRID_URL = "https://engage.example.com/webhooks/sendgrid"
META_URL = "https://engage.example.com/webhooks/meta"
_ACCOUNT = "AC" + "0" * 32
_OUR_NUMBER = "+15550001111"
_TWILIO_SAYS = frozenset({
    "accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed", "delivered",
    "undelivered", "partially_delivered", "read", "receiving", "received",
})  # fmt: skip
_META_SAYS = frozenset({"sent", "delivered", "read", "failed", "received"})
_SENDGRID_EVENTS = {"bounced": "bounce", "machine_open": "open"}


def _says(words: frozenset[str]) -> Callable[[list[Observation]], bool]:
    """Whether a walk has a step the provider reports (so it posts at least one request)."""
    return lambda walk: any(report.status in words for report in walk)


def _seconds(moment: datetime | None) -> int:
    assert moment is not None  # lifecycles() times every report
    return int(moment.timestamp())


def _twilio_params(report: Observation, send: Send, whatsapp: bool) -> dict[str, str]:
    facts = report.facts
    assert send.to is not None
    if report.status == "received":
        text = facts.text if facts is not None and facts.text is not None else "hello"
        return twilio_inbound_params(sid=send.provider_message_id, sender=send.to,
                                     to=_OUR_NUMBER, body=text, account_sid=_ACCOUNT,
                                     whatsapp=whatsapp)  # fmt: skip
    error = facts.error_code if facts is not None else None
    return twilio_status_params(sid=send.provider_message_id, status=report.status, to=send.to,
                                sender=_OUR_NUMBER, account_sid=_ACCOUNT, whatsapp=whatsapp,
                                error_code=error)  # fmt: skip


@st.composite
def twilio_callbacks(
    draw: st.DrawFn,
    channel: Channel = Channel.SMS,
    *,
    url: str = TWILIO_URL,
    token: str | None = None,
    end: str | None = None,
) -> list[ProviderRequest]:
    """Twilio's requests about one SMS or WhatsApp message, in the order things happened:
    status callbacks along a legal walk (ending in `end` when given), or an inbound message
    (sometimes a STOP or START); form-encoded, signed over `url` with `token` (default:
    `test_keys().twilio_token`)."""
    if channel is Channel.EMAIL:
        raise ValueError("Twilio carries SMS and WhatsApp; use sendgrid_batches for email")
    token = token if token is not None else test_keys().twilio_token
    send = draw(sends(channel, provider="twilio"))
    walk = draw(lifecycles(channel, end, send=send).filter(_says(_TWILIO_SAYS)))
    return [
        twilio_callback(url, _twilio_params(r, send, channel is Channel.WHATSAPP), token)
        for r in walk
        if r.status in _TWILIO_SAYS
    ]


def _sendgrid_event(report: Observation, send: Send, retry: int | None) -> dict[str, Any]:
    extra: dict[str, Any] = {"engage_message_id": str(send.message_id)}
    facts = report.facts
    if report.status == "machine_open":
        extra["sg_machine_open"] = True
    if report.status == "click" and facts is not None and facts.link_url:
        extra["url"] = facts.link_url
    if report.status.startswith("group_"):
        extra.update(asm_group_id=7, url="https://example.com/preferences")
    if report.status == "bounced":
        extra.update(type="bounce", reason="550 unknown user")
    # a report drawn without its own id gets one from what makes it this report
    when = report.occurred_at.timestamp() if report.occurred_at else 0.0
    event_id = report.event_id or f"{report.provider_message_id}-{report.status}-{when:.6f}"
    return sendgrid_event(
        event=_SENDGRID_EVENTS.get(report.status, report.status), email=send.to or "",
        timestamp=_seconds(report.occurred_at),
        sg_message_id=f"{send.provider_message_id}.filter0001.16648.5515E0B88.0",
        sg_event_id=event_id if retry is None else f"{event_id}-retry-{retry}", extra=extra,
    )  # fmt: skip


def _split(draw: st.DrawFn, events: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(events) - 1)), max_size=2)))
    bounds = [0, *(c for c in cuts if c < len(events)), len(events)]
    return [list(events[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


@st.composite
def sendgrid_batches(
    draw: st.DrawFn,
    *,
    url: str = SENDGRID_URL,
    messages: int = 3,
    retries: bool = True,
    signed_at: int | None = None,
) -> list[ProviderRequest]:
    """SendGrid Event Webhook requests about up to `messages` distinct emails: each a legal
    walk with its engagement, the events shuffled and split over one to three batches and, with
    `retries`, some sent again under a new `sg_event_id` (as SendGrid's retries are). Signed
    with `test_keys()`'s private key at `signed_at` (default: now, inside the freshness window
    a receiver allows)."""
    key = test_keys().sendgrid_private_key
    events: list[dict[str, Any]] = []
    # distinct ids: two messages drawn with one would send identical events under one
    # sg_event_id, repeats that are not marked as the retries they would be
    emails = st.lists(sends(Channel.EMAIL, provider="sendgrid"), min_size=1, max_size=messages,
                      unique_by=lambda send: send.provider_message_id)  # fmt: skip
    for send in draw(emails):
        for report in draw(lifecycles(Channel.EMAIL, send=send)):
            events.append(_sendgrid_event(report, send, None))
            if retries and draw(st.integers(0, 4)) == 0:
                events.append(_sendgrid_event(report, send, len(events)))
    events = draw(st.permutations(events))
    stamp = signed_at if signed_at is not None else int(time.time())
    return [sendgrid_batch(url, chunk, key, stamp) for chunk in _split(draw, events)]


@st.composite
def meta_notifications(
    draw: st.DrawFn,
    *,
    url: str = META_URL,
    secret: str | None = None,
    end: str | None = None,
) -> list[ProviderRequest]:
    """Meta's WhatsApp Cloud API notifications about one message, in the order things
    happened: `statuses[]` along a legal walk (Meta reports `sent`, `delivered`, `read`,
    `failed`), or a user's text in `messages[]` (sometimes a STOP or START); signed with
    `secret` (default: `test_keys().meta_app_secret`)."""
    secret = secret if secret is not None else test_keys().meta_app_secret
    send = draw(sends(Channel.WHATSAPP, provider="meta"))
    assert send.to is not None
    made = []
    for report in draw(lifecycles(Channel.WHATSAPP, end, send=send).filter(_says(_META_SAYS))):
        if report.status not in _META_SAYS:
            continue
        at = _seconds(report.occurred_at)
        if report.status == "received":
            text = report.facts.text if report.facts and report.facts.text else "hello"
            typed = meta_text_message(wamid=send.provider_message_id, sender=send.to,
                                      timestamp=at, text=text)  # fmt: skip
            made.append(meta_notification(url, secret, messages=[typed]))
        else:
            status = meta_status(wamid=send.provider_message_id, status=report.status,
                                 timestamp=at, recipient_id=send.to)  # fmt: skip
            made.append(meta_notification(url, secret, statuses=[status]))
    return made
