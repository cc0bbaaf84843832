"""One request through verify → parse → the core, on a SQLite file: what applied, what was held,
and retries after a fix. Signatures are real (SendGrid's scheme with a P-256 key from
`cryptography`; Twilio's from the `twilio` package's RequestValidator)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from adapters.providers.base import (
    BodyPrefix,
    BodyTooLarge,
    InboundRequest,
    SignatureRefused,
    read_body,
)
from adapters.providers.ingest import (
    NotRetryable,
    UnverifiedRetryRefused,
    ingest,
    refuse_oversized,
    retry,
)
from adapters.providers.meta import MetaAdapter
from adapters.providers.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER, SendGridAdapter
from adapters.providers.twilio import TwilioAdapter
from adapters.stores import open_application
from engage_core import Channel, EngageApplication
from engage_core.limits import Limits
from tests.providers.test_sendgrid import NOW, PUBLIC_KEY, sign, stamp

URL = "https://engage.example.com/webhooks/twilio"
TOKEN = "12345678901234567890123456789012"


def sendgrid_request(
    events: list[object], encode: Callable[[list[object]], bytes] = orjson.dumps
) -> InboundRequest:
    """A signed SendGrid request of `events` (`encode`: how the body is written)."""
    body = encode(events)
    timestamp = stamp()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, timestamp),
        TIMESTAMP_HEADER: timestamp,
    }
    return InboundRequest(body, headers, url="https://engage.example.com/sg", received_at=NOW)


def delivered(message: str, n: int) -> dict[str, object]:
    return {
        "email": f"user{n}@example.com", "timestamp": int(NOW.timestamp()) - 60 + n,
        "event": "delivered", "sg_event_id": f"ev-{message}-{n}",
        "sg_message_id": f"{message}.filter0001.16648.5515E0B88.0",
    }  # fmt: skip


@pytest.fixture
def app(tmp_path: Path) -> EngageApplication:
    return open_application(f"sqlite:///{tmp_path / 'engage.db'}")


def test_a_bad_element_is_held_with_the_request_and_the_rest_apply(
    app: EngageApplication,
) -> None:
    bad = {**delivered("m3", 3), "event": "teleported"}
    request = sendgrid_request([delivered("m1", 1), bad, delivered("m2", 2)])
    report = ingest(app, SendGridAdapter(PUBLIC_KEY), request)
    assert (report.received, report.applied, report.quarantined) == (3, 2, 1)
    assert report.refused is None
    assert "element 1" in report.errors[0]
    (entry,) = app.held()
    assert entry.id == report.held
    assert entry.request.body == request.body  # the bytes as received, not re-encoded
    assert dict(entry.request.headers)[SIGNATURE_HEADER] == request.headers[SIGNATURE_HEADER]
    assert [p.index for p in entry.problems] == [1]
    found = app.find_message(Channel.EMAIL, "m1", "sendgrid")
    assert found is not None
    assert found.state.status == "delivered"


def test_a_refused_request_applies_nothing_and_is_held_until_a_fix(
    app: EngageApplication,
) -> None:
    request = sendgrid_request([delivered("m1", 1)])
    unconfigured = ingest(app, SendGridAdapter(None), request)
    assert (unconfigured.received, unconfigured.rejected, unconfigured.applied) == (1, 1, 0)
    assert isinstance(unconfigured.refused, SignatureRefused)
    assert app.find_message(Channel.EMAIL, "m1", "sendgrid") is None
    (entry,) = app.held()
    assert entry.refused

    still = retry(app, {"sendgrid": SendGridAdapter(None)}, entry)
    assert still.rejected == 1
    fixed = retry(app, {"sendgrid": SendGridAdapter(PUBLIC_KEY)}, entry)
    assert (fixed.applied, fixed.errors) == (1, ())
    assert list(app.held()) == []  # released
    (released,) = app.held(include_released=True)
    assert (released.released, released.retries) == (True, 2)
    assert app.find_message(Channel.EMAIL, "m1", "sendgrid") is not None


def test_retrying_what_partly_applied_only_lands_what_failed(app: EngageApplication) -> None:
    request = sendgrid_request([delivered("m1", 1), {"event": "processed"}])
    first = ingest(app, SendGridAdapter(PUBLIC_KEY), request)
    assert (first.applied, first.quarantined) == (1, 1)
    (entry,) = app.held()
    again = retry(app, {"sendgrid": SendGridAdapter(PUBLIC_KEY)}, entry)
    # the good element is a duplicate now; the bad one is still bad, so the entry stays held
    assert (again.applied, again.duplicates, again.quarantined) == (0, 1, 1)
    (still_held,) = app.held()
    assert (still_held.retries, still_held.released) == (1, False)


def test_the_same_bad_request_again_is_one_entry_held_twice(app: EngageApplication) -> None:
    request = sendgrid_request([{"event": "processed"}])
    ingest(app, SendGridAdapter(PUBLIC_KEY), request)
    ingest(app, SendGridAdapter(PUBLIC_KEY), request)
    (entry,) = app.held()
    assert entry.times_held == 2


def test_a_twilio_callback_signed_by_twilios_validator_lands(app: EngageApplication) -> None:
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "From": "+15005550006",
              "To": "+12135618345", "AccountSid": "AC1", "ApiVersion": "2010-04-01"}  # fmt: skip
    signature = RequestValidator(TOKEN).compute_signature(URL, params)
    request = InboundRequest(
        urlencode(params).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        url=URL,
    )
    report = ingest(app, TwilioAdapter(TOKEN), request)
    assert (report.received, report.applied) == (1, 1)
    tampered = InboundRequest(request.body, request.headers, url=URL + "?x=1")
    refused = ingest(app, TwilioAdapter(TOKEN), tampered)
    assert refused.rejected == 1
    assert "signature" in refused.errors[0].lower()


def test_ignored_meta_notifications_are_reported_not_held(app: EngageApplication) -> None:
    change = {"field": "account_update", "value": {"event": "x"}}
    body = orjson.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    )
    report = ingest(
        app, MetaAdapter(None), InboundRequest(body, {"Content-Type": "application/json"}),
        verify=False,
    )  # fmt: skip
    assert report.received == 0
    assert report.ignored
    assert list(app.held()) == []


elements = st.one_of(
    st.builds(delivered, st.sampled_from(["m1", "m2", "m3"]), st.integers(0, 50)),
    st.fixed_dictionaries({"event": st.sampled_from(["processed", "nope", 7])}),
    st.integers(-(2**63), 2**63 - 1),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(elements, max_size=12))
def test_nothing_accepted_is_lost(events: list[object]) -> None:
    """Every element is counted exactly once, and whatever was quarantined is held."""
    app = open_application("memory://")
    report = ingest(app, SendGridAdapter(PUBLIC_KEY), sendgrid_request(events))
    landed = report.applied + report.duplicates + report.late + report.conflicts
    assert report.received == len(events)
    assert landed + report.quarantined == report.received
    held = list(app.held())
    if report.quarantined:
        (entry,) = held
        assert len(entry.problems) == report.quarantined
    else:
        assert held == []


def test_an_unauthenticated_request_is_never_applied_unverified_unless_named(
    app: EngageApplication,
) -> None:
    forged = sendgrid_request([delivered("m9", 9)])
    forged = InboundRequest(
        forged.body,
        {**forged.headers, SIGNATURE_HEADER: sign(b"something else", stamp())},
        url=forged.url,
        received_at=forged.received_at,
    )
    report = ingest(app, SendGridAdapter(PUBLIC_KEY), forged)
    assert report.rejected == 1
    (entry,) = app.held()
    assert entry.unauthenticated
    adapters = {"sendgrid": SendGridAdapter(PUBLIC_KEY)}
    with pytest.raises(UnverifiedRetryRefused):
        retry(app, adapters, entry, verify=False)
    assert app.find_message(Channel.EMAIL, "m9", "sendgrid") is None
    named = retry(app, adapters, entry, verify=False, allow_unauthenticated=True)
    assert named.applied == 1
    (released,) = app.held(include_released=True)
    assert released.last_retry_verified is False  # the listing says how it was let in


def test_credentials_no_provider_sends_are_not_kept(app: EngageApplication) -> None:
    request = InboundRequest(
        b"[{", {"Content-Type": "application/json", "Authorization": "Bearer sk-live-secret",
                "Cookie": "session=1"},
        url="https://admin:hunter2@engage.example.com/sg?x=1",
    )  # fmt: skip
    ingest(app, SendGridAdapter(PUBLIC_KEY), request, verify=False)
    (entry,) = app.held()
    assert dict(entry.request.headers) == {"Content-Type": "application/json"}
    assert entry.request.url == "https://engage.example.com/sg?x=1"


def test_a_repeat_arrival_is_retried_with_its_own_headers(app: EngageApplication) -> None:
    first = sendgrid_request([delivered("m5", 5)])
    unsigned = InboundRequest(first.body, {"Content-Type": "application/json"}, url=first.url,
                              received_at=first.received_at)  # fmt: skip
    ingest(app, SendGridAdapter(PUBLIC_KEY), unsigned)  # held: no signature
    ingest(app, SendGridAdapter(None), first)  # held again: signed, but no key configured
    (entry,) = app.held()
    assert entry.times_held == 2
    assert SIGNATURE_HEADER in dict(entry.request.headers)
    fixed = retry(app, {"sendgrid": SendGridAdapter(PUBLIC_KEY)}, entry)
    assert fixed.applied == 1


def test_an_unsigned_request_keeps_only_its_first_bytes_and_cannot_be_retried(
    app: EngageApplication,
) -> None:
    signed = sendgrid_request([delivered(f"m{n}", n) for n in range(40)])
    unsigned = InboundRequest(signed.body, {"Content-Type": "application/json"}, url=signed.url,
                              received_at=signed.received_at)  # fmt: skip
    limits = Limits(unauthenticated_body_prefix_bytes=64)
    report = ingest(app, SendGridAdapter(PUBLIC_KEY), unsigned, limits=limits)
    assert (report.received, report.rejected) == (1, 1)
    (entry,) = app.held()
    assert entry.request.body == signed.body[:64]
    assert (entry.request.body_size, entry.request.truncated) == (len(signed.body), True)
    assert entry.request.body_sha256 == hashlib.sha256(signed.body).hexdigest()
    for verify in (True, False):
        with pytest.raises(NotRetryable, match="only the first 64 of its"):
            retry(app, {"sendgrid": SendGridAdapter(PUBLIC_KEY)}, entry, verify=verify,
                  allow_unauthenticated=True)  # fmt: skip
    # the provider's own retry, signed, lands whole
    assert ingest(app, SendGridAdapter(PUBLIC_KEY), signed, limits=limits).applied == 40
    assert app.find_message(Channel.EMAIL, "m39", "sendgrid") is not None


def test_a_signed_arrival_completes_a_prefix_hold_so_it_can_be_retried(
    app: EngageApplication,
) -> None:
    request = sendgrid_request([delivered("m1", 1), {"event": "processed"}])
    unsigned = InboundRequest(request.body, {"Content-Type": "application/json"},
                              url=request.url, received_at=request.received_at)  # fmt: skip
    limits = Limits(unauthenticated_body_prefix_bytes=10)
    ingest(app, SendGridAdapter(PUBLIC_KEY), unsigned, limits=limits)
    (entry,) = app.held()
    assert entry.request.truncated
    signed = ingest(app, SendGridAdapter(PUBLIC_KEY), request, limits=limits)
    assert (signed.applied, signed.quarantined, signed.held) == (1, 1, entry.id)
    (completed,) = app.held()
    assert (completed.request.body, completed.request.truncated) == (request.body, False)
    again = retry(app, {"sendgrid": SendGridAdapter(PUBLIC_KEY)}, completed, limits=limits)
    assert (again.duplicates, again.quarantined) == (1, 1)


def test_a_body_over_its_limit_is_refused_unverified_and_held_as_a_prefix(
    app: EngageApplication,
) -> None:
    request = sendgrid_request([delivered(f"m{n}", n) for n in range(20)])
    limits = Limits(provider_body_bytes=len(request.body) - 1, unauthenticated_body_prefix_bytes=32)
    report = ingest(app, SendGridAdapter(PUBLIC_KEY), request, limits=limits)
    assert (report.received, report.rejected, report.applied) == (1, 1, 0)
    assert isinstance(report.refused, BodyTooLarge)
    assert report.errors == (
        f"body over the limit of {len(request.body) - 1} bytes "
        f"(ENGAGE_MAX_PROVIDER_BODY_BYTES): {len(request.body)} bytes",
    )
    (entry,) = app.held()
    assert (entry.id, entry.refused, entry.unauthenticated) == (report.held, True, True)
    assert (entry.request.body, entry.request.body_size) == (request.body[:32], len(request.body))
    # the same body read as a prefix only (as `engage ingest` reads it) is the same entry
    whole = read_body(io.BytesIO(request.body), limits.provider_body_bytes, keep=32)
    assert isinstance(whole, BodyPrefix)
    again = refuse_oversized(app, SendGridAdapter(PUBLIC_KEY), request, whole, limits=limits)
    assert again.held == entry.id
    (held_twice,) = app.held()
    assert held_twice.times_held == 2
    assert ingest(app, SendGridAdapter(PUBLIC_KEY), request).applied == 20  # within the default


def test_an_observation_with_details_over_their_limit_is_quarantined_alone(
    app: EngageApplication,
) -> None:
    big = {**delivered("m2", 2), "note": "x" * 500}  # SendGrid keeps unknown fields as details
    request = sendgrid_request([delivered("m1", 1), big])
    report = ingest(app, SendGridAdapter(PUBLIC_KEY), request, limits=Limits(details_bytes=400))
    assert (report.received, report.applied, report.quarantined) == (2, 1, 1)
    (reason,) = report.errors
    assert reason.startswith("message 'm2' (delivered): details: ")
    assert reason.endswith("over the limit of 400 (ENGAGE_MAX_DETAILS_BYTES)")
    (entry,) = app.held()
    assert (entry.request.body, entry.refused) == (request.body, False)  # kept whole: signed
    assert app.find_message(Channel.EMAIL, "m2", "sendgrid") is None


@given(st.binary(max_size=300), st.integers(1, 200), st.integers(0, 100))
def test_read_body_is_whole_within_the_limit_else_a_prefix_with_size_and_digest(
    body: bytes, limit: int, keep: int
) -> None:
    read = read_body(io.BytesIO(body), limit, keep=keep)
    if len(body) <= limit:
        assert read == body
    else:
        digest = hashlib.sha256(body).hexdigest()
        assert read == BodyPrefix(body[: min(keep, limit)], len(body), digest)
