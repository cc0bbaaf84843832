"""Hypothesis strategies for Engage's inputs: channels, contacts, send records, and the
provider reports about one message, either as a legal walk of its channel's lifecycle
(`lifecycles`) or as any reports at all (`reports`: providers contradict themselves).

Every value is valid as Engage checks it (a drawn `Send` or `Observation` constructs), so a
property fails on what the code under test does with good inputs, never on a strategy's typo.
The walks are read from the compiled lifecycle tables (`engage_core.lifecycles`), the one
declaration of each channel's statuses, so a status added there is drawn here too.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from engage_core.channels import USUAL_PROVIDERS, Channel
from engage_core.consent.contacts import ContactKey
from engage_core.consent.keywords import DEFAULT_WORDS
from engage_core.lifecycles import LIFECYCLES, Lifecycle
from engage_core.observations import Observation, ProviderFacts, Send

__all__ = [
    "EPOCH",
    "channels",
    "contacts",
    "lifecycles",
    "provider_message_ids",
    "reports",
    "sends",
]

# Where drawn times begin: a fixed instant, so a failing example reads the same every run, and
# in the past, so no clock-skew policy clamps it.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

_HEX = "0123456789abcdef"
_BASE64ISH = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Fictional ranges: 555-01xx in North America, 07700 900xxx in the UK (Ofcom's drama range).
_AREAS = ("212", "213", "415", "646", "917")
_NAMES = ("ana", "bo", "chen", "dev", "eli", "fay", "gus", "hana")
_DOMAINS = ("example.com", "example.org", "example.net")
_CAMPAIGNS = ("spring", "welcome", "winback")
_TEXTS = ("hi", "thanks!", "when does it arrive?", "please stop", "yes please")


def channels() -> st.SearchStrategy[Channel]:
    """Any of Engage's channels."""
    return st.sampled_from(list(Channel))


def _phones() -> st.SearchStrategy[str]:
    north_america = st.builds(
        lambda area, line: f"+1{area}55501{line:02d}", st.sampled_from(_AREAS), st.integers(0, 99)
    )
    uk = st.integers(0, 999).map(lambda line: f"+447700900{line:03d}")
    return north_america | uk


def _emails() -> st.SearchStrategy[str]:
    return st.builds(
        lambda name, n, domain: f"{name}{n if n else ''}@{domain}",
        st.sampled_from(_NAMES),
        st.integers(0, 9),
        st.sampled_from(_DOMAINS),
    )


def contacts(channel: Channel | None = None) -> st.SearchStrategy[ContactKey]:
    """Contact vectors of `channel` (any channel when None): email addresses, or phone numbers
    in E.164 on SMS and WhatsApp. Drawn from small pools, so two draws often name the same
    contact, as a real audience's messages and consent updates do."""
    if channel is None:
        return channels().flatmap(_contacts_of)
    return _contacts_of(channel)


@functools.cache
def _contacts_of(channel: Channel) -> st.SearchStrategy[ContactKey]:
    """`contacts(channel)`, built once per channel: drawing a contact of any channel would
    otherwise build (and Hypothesis validate) a new strategy for every contact drawn."""
    keys = _emails() if channel is Channel.EMAIL else _phones()
    return keys.map(lambda key: ContactKey.parse(channel, key))


def provider_message_ids(provider: str) -> st.SearchStrategy[str]:
    """Message ids shaped as `provider` makes them (Twilio's `SM…` SIDs, SendGrid's message
    ids, Meta's `wamid.…`); any other provider's are short tokens."""
    if provider == "twilio":
        return st.text(_HEX, min_size=32, max_size=32).map(lambda tail: "SM" + tail)
    if provider == "sendgrid":
        return st.text(_BASE64ISH, min_size=22, max_size=22)
    if provider == "meta":
        return st.text(_BASE64ISH, min_size=24, max_size=24).map(lambda tail: "wamid." + tail)
    return st.text(_HEX, min_size=8, max_size=12).map(lambda tail: "M" + tail)


def _maybe(values: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.none() | values


@st.composite
def sends(
    draw: st.DrawFn,
    channel: Channel | None = None,
    *,
    provider: str | None = None,
    contact: ContactKey | None = None,
) -> Send:
    """The sender's record of one outbound message on `channel` (drawn when None), through one
    of the channel's usual providers (or `provider`), to `contact` (drawn when None), with the
    optional fields (user, campaign, template, subject) present or not."""
    if channel is None:
        channel = contact.channel if contact is not None else draw(channels())
    provider = provider or draw(st.sampled_from(USUAL_PROVIDERS[channel]))
    to = contact if contact is not None else draw(contacts(channel))
    subject = st.sampled_from(["Hello", "Your order", "Last chance"])
    return Send(
        channel=channel,
        provider=provider,
        provider_message_id=draw(provider_message_ids(provider)),
        to=to.key,
        user_id=draw(_maybe(st.integers(1, 50).map(lambda n: f"user-{n}"))),
        campaign_id=draw(_maybe(st.sampled_from(_CAMPAIGNS))),
        campaign_name=draw(_maybe(st.sampled_from(_CAMPAIGNS).map(str.title))),
        journey_id=draw(_maybe(st.sampled_from(["j1", "j2"]))),
        template_id=draw(_maybe(st.sampled_from(["t1", "t2"]))),
        email_subject=draw(_maybe(subject)) if channel is Channel.EMAIL else None,
        sent_at=draw(st.none() | _times(EPOCH)),
    )


def _times(start: datetime, seconds: int = 10_000) -> st.SearchStrategy[datetime]:
    return st.integers(0, seconds).map(lambda s: start + timedelta(seconds=s))


def _successors(table: Lifecycle, status: str) -> list[str]:
    """Where the machine's edges lead from `status`, in precedence order (so shrinking moves
    towards the lowest)."""
    return sorted((d for s, d in table.edges if s == status), key=table.rank.__getitem__)


def _leads_to(table: Lifecycle, status: str, end: str) -> bool:
    return status == end or end in table.descendants[status]


def _walk(draw: st.DrawFn, table: Lifecycle, end: str | None, max_steps: int) -> list[str]:
    """A legal walk of `table`'s machine from a status messages begin in: to `end` when given
    (every step one the machine allows, each still leading to `end`), else as far as drawn."""
    roots = sorted(r for r in table.roots if end is None or _leads_to(table, r, end))
    path = [draw(st.sampled_from(sorted(roots, key=lambda r: r != table.initial)))]
    while len(path) < max_steps:
        here = path[-1]
        ahead = [s for s in _successors(table, here) if end is None or _leads_to(table, s, end)]
        if not ahead or ((here == end or end is None) and draw(st.booleans())):
            break
        path.append(draw(st.sampled_from(ahead)))
    if end is not None and path[-1] != end:  # out of steps: finish by the shortest way
        path += [*table.paths[(path[-1], end)], end]
    return path


def _facts(channel: Channel, status: str, contact: str | None, n: int) -> ProviderFacts | None:
    """What a report of `status` says besides its status, under the core's names."""
    if status == "click":
        return ProviderFacts(contact=contact, link_url=f"https://example.com/offer/{n}")
    if status in {"group_unsubscribe", "group_resubscribe"}:
        return ProviderFacts(contact=contact, group="newsletter")
    if status in {"bounced", "undelivered", "failed"}:
        return ProviderFacts(contact=contact, error_code="30003", reason="unreachable")
    if contact is not None and channel is Channel.EMAIL:
        return ProviderFacts(contact=contact)
    return None


def _inbound_text(draw: st.DrawFn) -> str:
    """What a user types: ordinary words, or a keyword in any case with stray spaces."""
    words = [w for kind in DEFAULT_WORDS.values() for w in kind]
    keyword = st.tuples(st.sampled_from(words), st.sampled_from([str.upper, str.lower, str.title]),
                        st.sampled_from(["", " "]))  # fmt: skip
    if draw(st.booleans()):
        word, case, pad = draw(keyword)
        return pad + case(word) + pad
    return draw(st.sampled_from(_TEXTS))


def _report(draw: st.DrawFn, send: Send, status: str, n: int, at: datetime) -> Observation:
    """One report of `status`: with the provider's event id, a composite key as SendGrid's
    adapter adds, both, or neither (then known by a digest of what it says)."""
    id_kind = draw(st.sampled_from(["event_id", "composite", "both", "none"]))
    keys = (f"{send.provider_message_id}:{status}:{n}",) if id_kind in {"composite", "both"} else ()
    facts = _facts(send.channel, status, send.to, n)
    if status == "received" and send.to is not None:
        facts = ProviderFacts(contact=send.to, text=_inbound_text(draw))
    return Observation(
        channel=send.channel,
        provider=send.provider,
        provider_message_id=send.provider_message_id,
        status=status,
        occurred_at=at,
        event_id=f"{send.provider_message_id}-{n}" if id_kind in {"event_id", "both"} else None,
        details={"n": n},
        provider_keys=keys,
        facts=facts,
    )


def _engagement(draw: st.DrawFn, table: Lifecycle) -> list[str]:
    kinds = sorted(table.engagement_names)
    return draw(st.lists(st.sampled_from(kinds), max_size=4)) if kinds else []


@st.composite
def lifecycles(
    draw: st.DrawFn,
    channel: Channel | None = None,
    end: str | None = None,
    *,
    send: Send | None = None,
    start: datetime = EPOCH,
    max_steps: int = 8,
) -> list[Observation]:
    """One message's reports, in the order things happened: a legal walk of its channel's
    machine (every status of it, the first included, each with a later time), ending in `end`
    when given; an email walk through `delivered` may go on with engagement (opens, clicks,
    unsubscribes), an inbound walk carries the sender and what they typed (keywords too).

    The message is `send`'s (its channel, provider, id and recipient) or a drawn one's. Feed
    them through `disorder` for the order, repeats and losses providers deliver them in.
    """
    if send is not None:
        channel = send.channel
    channel = channel if channel is not None else draw(channels())
    table = LIFECYCLES[channel]
    if end is not None and not table.is_status(end):
        raise ValueError(f"{end!r} is not a {channel.value} status; see docs/lifecycles.md")
    send = send if send is not None else draw(sends(channel))
    statuses = _walk(draw, table, end, max_steps)
    if table.engagement_implies in statuses and (end is None or end == statuses[-1]):
        statuses += _engagement(draw, table)
    at, made = start, []
    for n, status in enumerate(statuses):
        at += timedelta(seconds=draw(st.integers(1, 600)))
        made.append(_report(draw, send, status, n, at))
    return made


@st.composite
def reports(
    draw: st.DrawFn,
    channel: Channel | None = None,
    *,
    provider: str = "prov",
    provider_message_id: str = "M1",
    max_size: int = 12,
    with_send: bool | None = None,
) -> list[Observation | Send]:
    """Distinct reports about one message whose statuses need not make a legal walk: any of the
    channel's statuses and (email) engagement, in any number, as contradicting providers send
    them; times drawn or absent; each with an event id, a composite key, both or neither. A send
    record is appended or not (`with_send`: always or never)."""
    channel = channel or draw(channels())
    table = LIFECYCLES[channel]
    kinds = list(table.statuses) + sorted(table.engagement_names)
    statuses = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=max_size))
    made: list[Observation | Send] = []
    for index, status in enumerate(statuses):
        made.append(
            Observation(
                channel=channel,
                provider=provider,
                provider_message_id=provider_message_id,
                status=status,
                occurred_at=draw(st.none() | _times(EPOCH)),
                event_id=f"e{index}" if draw(st.booleans()) else None,
                details={"n": index},
                provider_keys=(f"composite-{index}",) if draw(st.booleans()) else (),
            )
        )
    if with_send if with_send is not None else draw(st.booleans()):
        made.append(Send(channel, provider, provider_message_id, campaign_id="c"))
    return made

