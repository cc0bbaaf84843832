"""Property: importing the same subscription CSV again changes nothing, whatever it holds
(good rows, bad rows, groups, phones, case variants, blank cells, repeated contacts)."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.imports.subscriptions_csv import import_subscriptions
from adapters.stores import open_application
from engage_core import EngageApplication
from engage_core.consent.contacts import ContactKey

STATUSES = ["subscribed", "Unsubscribed", "did-not-subscribe", "DID_NOT_SUBSCRIBE", "", "maybe"]
EMAILS = ["a@example.com", "A@Example.com", "b@example.com", "not-an-email", ""]
PHONES = ["+12135618345", "(213) 561-8345", "+442071838750", "12", ""]
HEADER = ["email", "phone", "email_subscription_status", "sms_subscription_status",
          "whatsapp_subscription_status", "Newsletter_subscription_status"]  # fmt: skip

rows = st.lists(
    st.tuples(
        st.sampled_from(EMAILS), st.sampled_from(PHONES), st.sampled_from(STATUSES),
        st.sampled_from(STATUSES), st.sampled_from(STATUSES), st.sampled_from(STATUSES),
    ),
    max_size=25,
)  # fmt: skip


def as_csv(body: list[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(body)
    return out.getvalue()


def snapshot(app: EngageApplication) -> dict[str, object]:
    """Every contact's state and every group's, as the application answers them."""
    seen: dict[str, object] = {}
    for email in {e for e in EMAILS if "@" in e}:
        key = ContactKey.parse("EMAIL", email)
        channel = app.channel_subscription(key)
        seen[f"email:{key.key}"] = (channel.current, len(channel.updates)) if channel else None
        seen[f"group:{key.key}"] = app.group_subscription(key, "Newsletter")
    for phone in ("+12135618345", "+442071838750"):
        for kind in ("SMS", "WHATSAPP"):
            channel = app.channel_subscription(ContactKey.parse(kind, phone))
            seen[f"{kind}:{phone}"] = (channel.current, len(channel.updates)) if channel else None
    return seen


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.integers(1, 7))
def test_importing_the_same_file_again_changes_nothing(
    body: list[tuple[str, ...]], batch: int
) -> None:
    app = open_application("memory://")
    text = as_csv(body)
    first = import_subscriptions(app, io.StringIO(text), source="subs.csv", rows_per_batch=batch)
    before = snapshot(app)
    again = import_subscriptions(app, io.StringIO(text), source="subs.csv", rows_per_batch=batch)
    assert snapshot(app) == before
    assert again.received == first.received
    assert again.applied == 0
    assert again.rejected == first.rejected  # a bad row is as bad the second time
    assert again.partial == first.partial  # and a row refused in part is so again
    assert again.unchanged == first.applied + first.unchanged
