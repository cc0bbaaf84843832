"""The consent-import workload's CSV: a realistic Segment subscription file, seeded.

Mixed spellings of the statuses, repeated addresses and numbers, phone numbers written the
ways people write them, a few groups, and a small share of bad rows; `write_csv` says how many
rows of each kind it wrote, so the benchmark can check every row was accounted for.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import attrs

HEADER = (
    "email",
    "phone",
    "email_subscription_status",
    "sms_subscription_status",
    "whatsapp_subscription_status",
    "Newsletter_subscription_status",
    "Product Updates_subscription_status",
)
REPEAT_EMAIL = 0.05
PHONE = 1 / 3
REPEAT_PHONE = 0.10
WHATSAPP = 0.09  # of the phone rows
NEWSLETTER = 0.12  # of the rows whose email status is subscribed
PRODUCT_UPDATES = 0.05
BAD = 0.005

_SPELLINGS = {
    "subscribed": ("subscribed", "Subscribed", "SUBSCRIBED"),
    "unsubscribed": ("unsubscribed", "Unsubscribed", "UNSUBSCRIBED"),
    "did-not-subscribe": ("did-not-subscribe", "Did-Not-Subscribe", "DID_NOT_SUBSCRIBE"),
}
_EMAIL_WEIGHTS = (0.7, 0.2, 0.1)
_PHONE_WEIGHTS = (0.6, 0.3, 0.1)
_GROUP_WEIGHTS = (0.8, 0.2, 0.0)
_BAD_STATUSES = ("subscribe", "opted-out", "yes", "pending", "unsubscibed")
_FIRST = ("jane", "john", "maria", "wei", "fatima", "olga", "ahmed", "liam", "sofia", "kenji")
_LAST = ("smith", "garcia", "chen", "okafor", "novak", "silva", "kim", "obrien", "patel", "berg")
_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "example.org", "proton.me", "shop.co.uk")
_AREAS = ("212", "213", "305", "312", "415", "512", "617", "646", "702", "718", "206", "404")


def address(k: int) -> str:
    """The k-th distinct address: the number keeps them distinct, whatever the case."""
    first, last = _FIRST[k % len(_FIRST)], _LAST[(k // len(_FIRST)) % len(_LAST)]
    domain = _DOMAINS[(k * 7 + k // 100) % len(_DOMAINS)]
    style = k % 4
    if style == 0:
        return f"{first}.{last}{k}@{domain}"
    if style == 1:
        return f"{first[0]}{last}{k}@{domain}"
    if style == 2:
        return f"{first.title()}.{last.title()}{k}@{domain.title()}"
    return f"{first}_{last}+news{k}@{domain}"


def _broken(k: int) -> str:
    """Not an address, made from the k-th one."""
    local, domain = address(k).split("@")
    return (f"{local}{domain}", f"{local}@@{domain}", f"{local} x@{domain}", f"{local}@{domain}.")[
        k % 4
    ]


def phone(p: int, style: int) -> str:
    """The p-th distinct US number, written in one of four ways (all read as the same)."""
    area, exchange = _AREAS[p % len(_AREAS)], 200 + (p // len(_AREAS)) % 800
    line = (p // (len(_AREAS) * 800) * 7919) % 10_000
    return (
        f"+1{area}{exchange}{line:04d}",
        f"+1{area}{exchange}{line:04d}",
        f"({area}) {exchange}-{line:04d}",
        f"{area}-{exchange}-{line:04d}",
        f"{area}.{exchange}.{line:04d}",
        f"+1{area}{exchange}{line:04d}",
    )[style]


@attrs.frozen
class Generated:
    """A generated file and what is in it."""

    path: Path
    rows: int
    bytes: int
    distinct_emails: int
    repeated_emails: int  # rows whose address an earlier row had
    phone_rows: int
    distinct_phones: int
    whatsapp_rows: int
    group_cells: int
    bad_emails: int
    bad_statuses: int

    @property
    def bad_rows(self) -> int:
        return self.bad_emails + self.bad_statuses


def _status(rng: random.Random, weights: tuple[float, float, float]) -> tuple[str, str]:
    """A status and one of its spellings."""
    status = rng.choices(tuple(_SPELLINGS), weights)[0]
    return status, rng.choice(_SPELLINGS[status])


def write_csv(path: Path, *, rows: int, seed: int) -> Generated:
    """Write a subscription CSV of `rows` data rows (plus the header), streamed to `path`."""
    rng = random.Random(seed)
    emails = repeated = phone_rows = phones = whatsapp = groups = bad_emails = bad_statuses = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            if i and rng.random() < REPEAT_EMAIL:
                k = rng.randrange(emails)
                repeated += 1
            else:
                k, emails = emails, emails + 1
            email = address(k)
            status, spelled = _status(rng, _EMAIL_WEIGHTS)
            bad = rng.random() < BAD
            if bad and rng.random() < 0.5:
                email, status = _broken(k), ""
                bad_emails += 1
            elif bad:
                spelled, status = rng.choice(_BAD_STATUSES), ""
                bad_statuses += 1
            row = [email, "", spelled, "", "", "", ""]
            if rng.random() < PHONE:
                phone_rows += 1
                if phones and rng.random() < REPEAT_PHONE:
                    p = rng.randrange(phones)
                else:
                    p, phones = phones, phones + 1
                row[1] = phone(p, rng.randrange(6))
                row[3] = _status(rng, _PHONE_WEIGHTS)[1]
                if rng.random() < WHATSAPP:
                    row[4] = _status(rng, _PHONE_WEIGHTS)[1]
                    whatsapp += 1
            if status == "subscribed":  # only then does a group status apply
                for column, share in ((5, NEWSLETTER), (6, PRODUCT_UPDATES)):
                    if rng.random() < share:
                        row[column] = _status(rng, _GROUP_WEIGHTS)[1]
                        groups += 1
            writer.writerow(row)
    return Generated(
        path, rows, path.stat().st_size, emails, repeated, phone_rows, phones, whatsapp,
        groups, bad_emails, bad_statuses,
    )  # fmt: skip
