"""Seeded provider traffic: raw signed requests, consent files and identify calls, with truth.

`generate(seed, messages, profile)` draws the messages (`walks`), adds the mess a profile asks
for (resends, retries under new ids, reordering, hours-late reports), writes every report as
its provider sends it (`requests`: one Twilio callback per report, SendGrid and Meta in
batches), and puts a consent CSV and identify calls first. Pure and deterministic: the same
seed and profile give byte-identical traffic (SendGrid's ECDSA signatures are deterministic
where OpenSSL allows). `truth` is what Engage must conclude from it (`truth.ground_truth`).
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import attrs

from engage_core.channels import Channel
from engage_core.simulation import requests as build
from engage_core.simulation.profiles import Profile
from engage_core.simulation.requests import ProviderRequest
from engage_core.simulation.signing import TestKeys, test_keys
from engage_core.simulation.truth import NOW, PAST, ConsentUpdate, GroundTruth, ground_truth
from engage_core.simulation.walks import (
    DAY,
    START,
    Contact,
    Report,
    draw_contacts,
    draw_inbound,
    draw_message,
)

__all__ = [
    "BUSINESS_NUMBER",
    "CSV_NAME",
    "Arrival",
    "ConsentCsv",
    "IdentifyCalls",
    "Simulation",
    "generate",
]

BUSINESS_NUMBER = "+12125550100"
ACCOUNT_SID = "AC" + "5e" * 16
CSV_NAME = "simulated-subscribers.csv"
BASE_URL = "https://engage.example.com"


@attrs.frozen
class ConsentCsv:
    """A subscription CSV as Segment defines it, imported under `name`."""

    name: str
    text: str


@attrs.frozen
class IdentifyCalls:
    """Identify calls carrying `context.messaging_subscriptions`, sent as one batch."""

    calls: tuple[dict[str, object], ...]


Arrival = ProviderRequest | ConsentCsv | IdentifyCalls


@attrs.frozen
class Simulation:
    """A generated run: `arrivals` in the order they reach Engage (each SendGrid request
    signed a few seconds after its newest event, its timestamp header the time a verifier
    should take as "now"), the keys that signed them, and the ground truth."""

    seed: int
    profile: str
    messages: int
    arrivals: tuple[Arrival, ...]
    keys: TestKeys
    truth: GroundTruth

    @property
    def requests(self) -> tuple[ProviderRequest, ...]:
        return tuple(item for item in self.arrivals if isinstance(item, ProviderRequest))


@attrs.frozen
class _Sent:
    """A report as it travels: `copy` 0 for the original, 1 a resend, 2 a retry under a
    new id; `order` is its place in arrival order."""

    report: Report
    copy: int
    order: float


def _statuses(rng: random.Random, profile: Profile) -> list[str]:
    subscribed = profile.rate("consent", "subscribed")
    return [
        "subscribed" if rng.random() < subscribed
        else rng.choice(("unsubscribed", "did_not_subscribe", ""))
        for _ in range(3)
    ]  # fmt: skip


def _consent(
    rng: random.Random, profile: Profile, contacts: tuple[Contact, ...]
) -> tuple[list[Arrival], list[ConsentUpdate]]:
    """The CSV imported first (Engage dates its rows when it reads them), then identify calls
    dated the day before the traffic."""
    rows = ["email,phone,email_subscription_status,sms_subscription_status,"
            "whatsapp_subscription_status"]  # fmt: skip
    calls: list[dict[str, object]] = []
    updates: list[ConsentUpdate] = []
    for contact in contacts:
        vectors = (("EMAIL", contact.email), ("SMS", contact.phone), ("WHATSAPP", contact.phone))
        if rng.random() < profile.rate("consent", "csv"):
            statuses = _statuses(rng, profile)
            rows.append(f"{contact.email},{contact.phone},{','.join(statuses)}")
            updates += [ConsentUpdate(v, s.upper(), f"csv:{len(rows)}:{v[0]}", (NOW, 0, 0))
                        for v, s in zip(vectors, statuses, strict=True) if s]  # fmt: skip
        if rng.random() < profile.rate("consent", "identify"):
            at = START - DAY + contact.index
            items = [{"key": key, "type": kind, "status": status.upper()}
                     for (kind, key), status in zip(vectors, _statuses(rng, profile), strict=True)
                     if status]  # fmt: skip
            call_id = f"sim-identify-{contact.index}"
            calls.append({"type": "identify", "userId": contact.user_id, "messageId": call_id,
                          "timestamp": _iso(at),
                          "context": {"messaging_subscriptions": items}})  # fmt: skip
            updates += [ConsentUpdate((i["type"], i["key"]), i["status"], f"{call_id}:{i['type']}",
                                      (PAST, at, 0)) for i in items]  # fmt: skip
    arrivals: list[Arrival] = [ConsentCsv(CSV_NAME, "\r\n".join(rows) + "\r\n")]
    if calls:
        arrivals.append(IdentifyCalls(tuple(calls)))
    return arrivals, updates


def _iso(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def _draw(rng: random.Random, profile: Profile, count: int) -> list[Report]:
    contacts = draw_contacts(rng, max(1, count // 2))
    reports: list[Report] = []
    index = count
    for n in range(count):
        message, mine = draw_message(rng, profile, n, contacts)
        reports += mine
        if (
            message.channel is not Channel.EMAIL
            and mine
            and (rng.random() < profile.rate("inbound", "rate"))
        ):
            at = mine[-1].at + rng.randrange(60, 3600)
            reports.append(draw_inbound(rng, profile, index, message.contact, message.channel, at))
            index += 1
    return _distinct_times(reports)


def _distinct_times(reports: list[Report]) -> list[Report]:
    """Reports that change consent at distinct seconds per contact, so their replay order is
    never a tie between two user actions (a real tie's order is the arrival's)."""
    taken: set[tuple[int, int]] = set()
    out: list[Report] = []
    for report in reports:
        if report.kind in {"unsubscribe", "spamreport", "group_unsubscribe", "received"}:
            at = report.at
            while (report.message.contact.index, at) in taken:
                at += 1
            taken.add((report.message.contact.index, at))
            report = attrs.evolve(report, at=at)
        out.append(report)
    return out


def _mess(rng: random.Random, profile: Profile, reports: list[Report]) -> list[_Sent]:
    """Arrival order: each report may overtake `reorder_window` earlier ones, a few arrive
    hours late, some are sent again (as they were, or SendGrid's under a new id)."""
    window = profile.count("mess", "reorder_window")
    sent: list[_Sent] = []
    for position, report in enumerate(sorted(reports, key=lambda r: (r.at, r.message.index))):
        order = position + rng.uniform(0, window)
        if rng.random() < profile.rate("mess", "late_tail"):
            order += rng.uniform(10 * window + 50, 100 * window + 500)
        sent.append(_Sent(report, 0, order))
        if rng.random() < profile.rate("mess", "duplicate"):
            sent.append(_Sent(report, 1, order + rng.uniform(1, 2 * window + 2)))
        if report.message.provider != "meta" and rng.random() < profile.rate(
            "mess", "new_id_retry"
        ):
            sent.append(_Sent(report, 2, order + rng.uniform(1, 2 * window + 2)))
    return sorted(sent, key=lambda s: s.order)


def _event_id(seed: int, report: Report, copy: int) -> str:
    digest = hashlib.sha256(f"{seed}:{report.message.provider_message_id}:{report.kind}:"
                            f"{report.at}:{copy == 2}".encode()).digest()  # fmt: skip
    return base64.b64encode(digest[:16]).decode()


def _twilio(seed: int, keys: TestKeys, sent: _Sent) -> ProviderRequest:
    report, message = sent.report, sent.report.message
    whatsapp = message.channel is Channel.WHATSAPP
    if message.inbound:
        params = build.twilio_inbound_params(
            sid=message.provider_message_id, sender=message.contact.phone, to=BUSINESS_NUMBER,
            body=message.text or "", account_sid=ACCOUNT_SID, whatsapp=whatsapp)  # fmt: skip
    else:
        extra = dict(report.extra)
        dlr = None
        if not whatsapp and report.kind in {"delivered", "undelivered"}:
            dlr = datetime.fromtimestamp(report.at, UTC).strftime("%y%m%d%H%M")
        params = build.twilio_status_params(
            sid=message.provider_message_id, status=report.kind, to=message.contact.phone,
            sender=BUSINESS_NUMBER, account_sid=ACCOUNT_SID, whatsapp=whatsapp,
            error_code=extra.get("error_code"), raw_dlr_done_date=dlr)  # fmt: skip
    token = _event_id(seed, report, sent.copy)
    url = f"{BASE_URL}/webhooks/twilio"
    return build.twilio_callback(url, params, keys.twilio_token, idempotency_token=token)


def _sendgrid_event(seed: int, sent: _Sent) -> dict[str, object]:
    report, message = sent.report, sent.report.message
    extra: dict[str, object] = dict(report.extra)
    if "asm_group_id" in extra:
        extra["asm_group_id"] = int(str(extra["asm_group_id"]))
    if report.kind == "machine_open":
        extra["sg_machine_open"] = True
    if message.custom_args:
        extra.update({"engage_message_id": f"sim-{message.index}",
                      "user_id": message.contact.user_id,
                      "campaign_id": f"campaign-{message.index % 5}"})  # fmt: skip
    event = "open" if report.kind == "machine_open" else report.kind
    return build.sendgrid_event(
        event=event, email=message.contact.email, timestamp=report.at,
        sg_message_id=f"{message.provider_message_id}.filter0001.16648.5515E0B88.0",
        sg_event_id=_event_id(seed, report, sent.copy), extra=extra)  # fmt: skip


def _meta_item(sent: _Sent) -> tuple[str, dict[str, object]]:
    report, message = sent.report, sent.report.message
    if message.inbound:
        return "messages", build.meta_text_message(
            wamid=message.provider_message_id, sender=message.contact.phone, timestamp=report.at,
            text=message.text or "")  # fmt: skip
    errors: tuple[dict[str, object], ...] = ()
    if report.kind == "failed":
        errors = ({"code": 131026, "title": "Message undeliverable"},)
    return "statuses", build.meta_status(
        wamid=message.provider_message_id, status=report.kind, timestamp=report.at,
        recipient_id=message.contact.phone, errors=errors)  # fmt: skip


def _requests(seed: int, profile: Profile, keys: TestKeys, sent: list[_Sent]
              ) -> Iterator[ProviderRequest]:  # fmt: skip
    """Each report as its provider posts it; SendGrid's and Meta's gathered in batches."""
    grid: list[dict[str, object]] = []
    meta: list[tuple[str, dict[str, object]]] = []
    grid_size, meta_size = profile.count("batches", "sendgrid"), profile.count("batches", "meta")
    for item in sent:
        provider = item.report.message.provider
        if provider == "twilio":
            yield _twilio(seed, keys, item)
        elif provider == "sendgrid":
            grid.append(_sendgrid_event(seed, item))
            if len(grid) >= grid_size:
                yield _sendgrid(keys, grid)
                grid = []
        else:
            meta.append(_meta_item(item))
            if len(meta) >= meta_size:
                yield _meta(keys, meta)
                meta = []
    if grid:
        yield _sendgrid(keys, grid)
    if meta:
        yield _meta(keys, meta)


def _sendgrid(keys: TestKeys, events: list[dict[str, object]]) -> ProviderRequest:
    signed_at = max(int(str(event["timestamp"])) for event in events) + 5
    url = f"{BASE_URL}/webhooks/sendgrid"
    return build.sendgrid_batch(url, events, keys.sendgrid_private_key, signed_at)


def _meta(keys: TestKeys, items: list[tuple[str, dict[str, object]]]) -> ProviderRequest:
    return build.meta_notification(
        f"{BASE_URL}/webhooks/meta", keys.meta_app_secret,
        statuses=[item for kind, item in items if kind == "statuses"],
        messages=[item for kind, item in items if kind == "messages"])  # fmt: skip


def _consent_of(sent: list[_Sent]) -> list[ConsentUpdate]:
    """The consent updates the reports cause, in arrival order (originals: a copy is a
    duplicate of its report and changes nothing)."""
    updates: list[ConsentUpdate] = []
    for item in sent:
        report, message = item.report, item.report.message
        if item.copy:
            continue
        vector: tuple[str, str] = ("EMAIL", message.contact.email)
        action: str | None = "opt_out"
        if report.kind == "group_unsubscribe":
            vector = ("GROUP", message.contact.email)
        elif message.inbound:
            action = _keyword(message.text or "")
            vector = (message.channel.value.upper(), message.contact.phone)
        elif report.kind not in {"unsubscribe", "spamreport"}:
            continue
        if action is None:
            continue
        twilio = message.provider == "twilio"
        when = (NOW, len(updates), 1) if twilio else (PAST, report.at, 1)
        updates.append(ConsentUpdate(vector, action, f"{message.provider_message_id}:"
                                     f"{report.kind}", when))  # fmt: skip
    return updates


def _keyword(text: str) -> str | None:
    word = text.strip().upper()
    if word in {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}:
        return "stop"
    return "start" if word in {"START", "YES", "UNSTOP"} else None


def generate(seed: int, messages: int, profile: Profile) -> Simulation:
    """`messages` outbound messages (and the replies users send) as a provider sends them,
    with the consent traffic first and the ground truth."""
    rng = random.Random(f"engage-simulation:{seed}:{profile.name}")
    keys = test_keys(seed)
    reports = _draw(rng, profile, messages)
    contacts = draw_contacts(rng, max(1, messages // 2))
    consent_arrivals, consent = _consent(rng, profile, contacts)
    sent = _mess(rng, profile, reports)
    arrivals = (*consent_arrivals, *_requests(seed, profile, keys, sent))
    truth = ground_truth([s.report for s in sent if not s.copy], [*consent, *_consent_of(sent)])
    return Simulation(seed, profile.name, messages, arrivals, keys, truth)
