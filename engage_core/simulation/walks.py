"""What happens to each simulated message, before any provider writes it down.

A message walks its channel's lifecycle along the edges providers really report (Twilio:
queued, sent, then delivered, undelivered or failed, and on WhatsApp read; SendGrid: processed,
deferrals, then delivered, bounced or dropped, then engagement; Meta: sent, delivered, read or
failed), a few reports are lost, some contradict the end, and users send messages back
(keywords among them). Each report is a `Report` in simulated time; `requests` writes them as
each provider would, and `truth` reads the same walks to say what Engage must conclude.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import attrs

from engage_core.channels import Channel
from engage_core.simulation.profiles import Profile

__all__ = [
    "MAX_REPEATS",
    "START",
    "Contact",
    "Report",
    "SimMessage",
    "draw_contacts",
    "draw_inbound",
    "draw_message",
]

START = 1_748_736_000  # 2025-06-01T00:00:00Z: simulated time, safely in every clock's past
DAY = 86_400
GROUP = 10  # the SendGrid unsubscribe group (asm_group_id) simulated messages belong to
# The most opens, machine opens or clicks of each kind one message gets: each comes again with
# its rate's chance, so a profile's rate of 1 would otherwise never stop.
MAX_REPEATS = 5
_STOP_WORDS = ("STOP", "stop", "Unsubscribe", "END")
_START_WORDS = ("START", "yes", "UNSTOP")
_OTHER_TEXT = ("Thanks!", "What time do you open?", "HELP", "please stop calling me")


@attrs.frozen
class Contact:
    """A person the simulation writes to: an address and a number (SMS and WhatsApp)."""

    index: int
    email: str
    phone: str
    user_id: str


@attrs.frozen
class SimMessage:
    """One message: which channel and provider carry it, its ids, its contact, whether a
    user sent it (inbound, with its text), and whether its events carry the send's custom
    args (SendGrid) linking them to a user and a campaign."""

    index: int
    channel: Channel
    provider: str
    provider_message_id: str
    contact: Contact
    inbound: bool = False
    text: str | None = None
    custom_args: bool = False


@attrs.frozen
class Report:
    """One report a provider sends about a message: its status or engagement `kind`, when it
    happened (Unix seconds), and what it carries (`error_code`, `url`, `attempt`, …)."""

    message: SimMessage
    kind: str
    at: int
    extra: tuple[tuple[str, str], ...] = ()


def draw_contacts(rng: random.Random, count: int) -> tuple[Contact, ...]:
    return tuple(
        Contact(i, f"person{i}@example.com", f"+1415555{i:04d}", f"user-{i}")
        if i < 10_000 else
        Contact(i, f"person{i}@example.com", f"+1202{i:07d}", f"user-{i}")
        for i in range(count)
    )  # fmt: skip


def _channel(rng: random.Random, profile: Profile) -> Channel:
    names = list(profile.channels)
    return Channel(rng.choices(names, [profile.channels[n] for n in names])[0])


def _provider(rng: random.Random, profile: Profile, channel: Channel) -> str:
    if channel is Channel.EMAIL:
        return "sendgrid"
    if channel is Channel.WHATSAPP and rng.random() < profile.rate(
        "providers", "whatsapp_via_meta"
    ):
        return "meta"
    return "twilio"


def _message_id(rng: random.Random, provider: str, index: int) -> str:
    tail = f"{index:08x}{rng.getrandbits(96):024x}"
    if provider == "sendgrid":
        return f"sg{tail[:20]}"
    if provider == "meta":
        return f"wamid.HBgL{tail}"
    return f"SM{tail}"


def draw_message(
    rng: random.Random, profile: Profile, index: int, contacts: tuple[Contact, ...]
) -> tuple[SimMessage, list[Report]]:
    """One message and the reports its provider sends, in the order they happen."""
    channel = _channel(rng, profile)
    provider = _provider(rng, profile, channel)
    contact = rng.choice(contacts)
    message = SimMessage(index, channel, provider, _message_id(rng, provider, index), contact,
                         custom_args=channel is Channel.EMAIL and rng.random() < 0.8)  # fmt: skip
    at = START + rng.randrange(DAY)
    reports: list[Report] = []
    for kind, extra in _walk(rng, profile, message):
        at += rng.randrange(1, 300)
        reports.append(Report(message, kind, at, extra))
    return message, reports


def draw_inbound(
    rng: random.Random, profile: Profile, index: int, contact: Contact, channel: Channel, at: int
) -> Report:
    """A message a user sends: a STOP or START word, or anything else."""
    provider = "twilio" if channel is Channel.SMS else rng.choice(("twilio", "meta"))
    roll = rng.random()
    stop, start = profile.rate("inbound", "stop"), profile.rate("inbound", "start")
    words = _STOP_WORDS if roll < stop else _START_WORDS if roll < stop + start else _OTHER_TEXT
    text = rng.choice(words)
    message = SimMessage(index, channel, provider, _message_id(rng, provider, index), contact,
                         inbound=True, text=text)  # fmt: skip
    return Report(message, "received", at)


Step = tuple[str, tuple[tuple[str, str], ...]]


def _walk(rng: random.Random, profile: Profile, message: SimMessage) -> Iterator[Step]:
    """The reports of one outbound message, lost ones left out, a contradiction perhaps
    added after its end."""
    steps = list(_email(rng, profile) if message.channel is Channel.EMAIL
                 else _phone(rng, profile, message))  # fmt: skip
    lost = profile.rate("outcomes", "lost_report")
    yield from (step for step in steps if rng.random() >= lost)


def _ending(rng: random.Random, profile: Profile) -> str:
    roll = rng.random()
    if roll < profile.rate("outcomes", "bounce"):
        return "bounce"
    if roll < profile.rate("outcomes", "bounce") + profile.rate("outcomes", "fail"):
        return "fail"
    return "deliver"


def _phone(rng: random.Random, profile: Profile, message: SimMessage) -> Iterator[Step]:
    meta = message.provider == "meta"
    ending = _ending(rng, profile)
    if not meta:
        yield "queued", ()
    if ending == "fail" and (meta or rng.random() < 0.5):
        yield "failed", (("error_code", "131026" if meta else "30008"),)
        return
    yield "sent", ()
    if ending == "fail":
        yield "failed", (("error_code", "131026" if meta else "30008"),)
        return
    if ending == "bounce" and not meta:
        yield "undelivered", (("error_code", "30003"),)
        return
    yield from _delivered(rng, profile, message)


def _delivered(rng: random.Random, profile: Profile, message: SimMessage) -> Iterator[Step]:
    meta = message.provider == "meta"
    read = message.channel is Channel.WHATSAPP and rng.random() < profile.rate("engagement", "read")
    if not (meta and read and rng.random() < 0.5):  # Meta skips delivered when read at once
        yield "delivered", ()
    if read:
        yield "read", ()
    if not meta and rng.random() < profile.rate("mess", "contradiction"):
        yield "undelivered", (("error_code", "30005"),)


def _email(rng: random.Random, profile: Profile) -> Iterator[Step]:
    yield "processed", ()
    ending = _ending(rng, profile)
    if ending == "fail":
        yield "dropped", (("reason", "Bounced Address"),)
        return
    for attempt in range(rng.choice((0, 0, 0, 1, 2))):
        yield "deferred", (("attempt", str(attempt + 1)), ("reason", "try again later"))
    if ending == "bounce":
        yield "bounce", (("type", "bounce"), ("reason", "550 5.1.1 user unknown"))
        return
    yield "delivered", ()
    yield from _engagement(rng, profile)
    if rng.random() < profile.rate("mess", "contradiction"):
        yield "bounce", (("type", "blocked"), ("reason", "late bounce"))


def _engagement(rng: random.Random, profile: Profile) -> Iterator[Step]:
    for kind, rate in (("open", "open"), ("machine_open", "machine_open"), ("click", "click")):
        for _ in range(MAX_REPEATS):
            if rng.random() >= profile.rate("engagement", rate):
                break
            url = f"https://example.com/offer/{rng.randrange(5)}"
            yield kind, ((("url", url),) if kind == "click" else ())
            rate = "click" if kind == "click" else "machine_open"  # fewer again
    for kind, rate in (("unsubscribe", "unsubscribe"), ("spamreport", "spam"),
                       ("group_unsubscribe", "group_unsubscribe")):  # fmt: skip
        if rng.random() < profile.rate("engagement", rate):
            yield kind, ((("asm_group_id", str(GROUP)),) if kind.startswith("group") else ())
