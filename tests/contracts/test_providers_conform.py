"""Every provider adapter keeps `ProviderAdapterContract`: Twilio SMS and WhatsApp (form
callbacks, and the JSON variant bound through `bodySHA256`), SendGrid's Event Webhook and
Meta's WhatsApp Cloud API. Requests are signed as the providers sign them: Twilio's with the
`twilio` package's own `RequestValidator`, SendGrid's with a P-256 key from `cryptography`
(the scheme its `EventWebhook` helper checks), Meta's with HMAC-SHA256 over the raw body."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from adapters.providers import InboundRequest
from tests.contracts.mutations import form_mutations, json_mutations
from tests.contracts.providers import NOW, ProviderAdapterContract
from tests.providers.test_meta import SECRET as META_SECRET
from tests.providers.test_meta import signature as meta_signature
from tests.providers.test_sendgrid import OTHER_KEY, PUBLIC_KEY, stamp
from tests.providers.test_sendgrid import sign as sendgrid_sign

PAYLOADS = Path(__file__).parents[1] / "providers" / "payloads"
TWILIO_TOKEN = "0c6f2b9e4a1d7358c2e4f6a8b0d1c3e5"  # the shape of an Auth Token; not a real one
OTHER_TWILIO_TOKEN = "1d7358c2e4f6a8b0d1c3e50c6f2b9e4a"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# The providers' own words, so mutations often stay close to what they send.
TWILIO_WORDS = st.sampled_from(
    ["queued", "sent", "delivered", "undelivered", "failed", "read", "received", "canceled",
     "whatsapp:+14155238886", "+15005550006", "rcs:x", "30007", "STOP", "", "SM1"]
)  # fmt: skip
SENDGRID_WORDS = st.sampled_from(
    ["processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "spamreport",
     "unsubscribe", "group_unsubscribe", "group_resubscribe", "blocked", 1767225600, "x@y.z"]
)  # fmt: skip
META_WORDS = st.sampled_from(
    ["sent", "delivered", "read", "failed", "played", "deleted", "text", "button",
     "interactive", "messages", "account_update", "1750263790", "16505551234", "wamid.X"]
)  # fmt: skip


class _Form(dict[str, list[str]]):
    """Form parameters as a web framework's multidict: what `RequestValidator` signs."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def twilio_fixtures(prefix: str) -> list[bytes]:
    files = sorted((PAYLOADS / "twilio").glob(f"{prefix}-*.json"))
    return [json.loads(path.read_text())["body"].encode() for path in files]


def twilio_signature(url: str, params: dict[str, list[str]], token: str) -> str:
    return str(RequestValidator(token).compute_signature(url, _Form(params)))


def form_params(body: bytes) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        params.setdefault(name, []).append(value)
    return params


class _TwilioForm(ProviderAdapterContract):
    """Twilio's form callbacks: the URL and the decoded parameters are signed, no time."""

    provider = "twilio"
    secret_variable = "ENGAGE_TWILIO_AUTH_TOKEN"
    signature_headers = ("X-Twilio-Signature",)
    signs_url = True
    signs_time = False
    fixtures: ClassVar[str]

    def environ(self) -> dict[str, str]:
        return {self.secret_variable: TWILIO_TOKEN}

    def bodies(self) -> Sequence[bytes]:
        return twilio_fixtures(self.fixtures)

    def signed(
        self, body: bytes, *, url: str | None = None, at: datetime = NOW, other_secret: bool = False
    ) -> InboundRequest:
        url = url or self.url
        token = OTHER_TWILIO_TOKEN if other_secret else TWILIO_TOKEN
        signature = twilio_signature(url, form_params(body), token)
        idempotency = f"idem-{hashlib.sha256(body).hexdigest()[:16]}"
        headers = {
            "Content-Type": FORM,
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": idempotency,
        }
        return InboundRequest(body, headers, url=url, received_at=at)

    def mutations(self, body: bytes) -> st.SearchStrategy[bytes]:
        return form_mutations(body, TWILIO_WORDS)

    def same_signed_content(self, body: bytes, other: bytes) -> bool:
        """Twilio signs each name with its distinct values, decoded (`%2B` and `%2b` alike); a
        body that is not UTF-8 form data cannot be checked at all."""
        try:
            decoded = [
                parse_qsl(b.decode("utf-8"), keep_blank_values=True, errors="strict")
                for b in (body, other)
            ]
        except ValueError:
            return False
        first, second = (
            {n: {v for m, v in pairs if m == n} for n, _ in pairs} for pairs in decoded
        )
        return first == second


class TestTwilioSmsConforms(_TwilioForm):
    fixtures = "sms"


class TestTwilioWhatsAppConforms(_TwilioForm):
    fixtures = "whatsapp"


class TestTwilioJsonConforms(_TwilioForm):
    """Twilio's JSON webhooks: the body's SHA-256 rides in the signed URL (`bodySHA256`)."""

    fixtures = "sms"

    def bodies(self) -> Sequence[bytes]:
        return [orjson.dumps(dict(parse_qsl(b.decode()))) for b in twilio_fixtures("sms")]

    def signed(
        self, body: bytes, *, url: str | None = None, at: datetime = NOW, other_secret: bool = False
    ) -> InboundRequest:
        token = OTHER_TWILIO_TOKEN if other_secret else TWILIO_TOKEN
        digest = RequestValidator(token).compute_hash(body.decode("utf-8", "replace"))
        url = f"{url or self.url}&bodySHA256={digest}"
        headers = {"Content-Type": JSON, "X-Twilio-Signature": twilio_signature(url, {}, token)}
        return InboundRequest(body, headers, url=url, received_at=at)

    def mutations(self, body: bytes) -> st.SearchStrategy[bytes]:
        return json_mutations(body, TWILIO_WORDS)

    def same_signed_content(self, body: bytes, other: bytes) -> bool:
        return body == other


class TestSendGridConforms(ProviderAdapterContract):
    """SendGrid signs `timestamp + body` (ECDSA P-256); the timestamp bounds a replay."""

    provider = "sendgrid"
    secret_variable = "ENGAGE_SENDGRID_PUBLIC_KEY"
    signature_headers = (
        "X-Twilio-Email-Event-Webhook-Signature",
        "X-Twilio-Email-Event-Webhook-Timestamp",
    )
    signs_url = False
    signs_time = True

    def environ(self) -> dict[str, str]:
        return {self.secret_variable: PUBLIC_KEY}

    def bodies(self) -> Sequence[bytes]:
        return [path.read_bytes() for path in sorted((PAYLOADS / "sendgrid").glob("*.json"))]

    def signed(
        self, body: bytes, *, url: str | None = None, at: datetime = NOW, other_secret: bool = False
    ) -> InboundRequest:
        timestamp = stamp(at)
        signature = (
            sendgrid_sign(body, timestamp, OTHER_KEY)
            if other_secret
            else sendgrid_sign(body, timestamp)
        )
        headers = {
            "Content-Type": JSON,
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }
        return InboundRequest(body, headers, url=url or self.url, received_at=NOW)

    def mutations(self, body: bytes) -> st.SearchStrategy[bytes]:
        return json_mutations(body, SENDGRID_WORDS)


class TestMetaConforms(ProviderAdapterContract):
    """Meta signs the raw body alone (HMAC-SHA256 keyed by the app secret): no URL, no time."""

    provider = "meta"
    secret_variable = "ENGAGE_META_APP_SECRET"
    signature_headers = ("X-Hub-Signature-256",)
    signs_url = False
    signs_time = False

    def environ(self) -> dict[str, str]:
        return {self.secret_variable: META_SECRET}

    def bodies(self) -> Sequence[bytes]:
        return [path.read_bytes() for path in sorted((PAYLOADS / "meta").glob("*.json"))]

    def signed(
        self, body: bytes, *, url: str | None = None, at: datetime = NOW, other_secret: bool = False
    ) -> InboundRequest:
        secret = "0" * 32 if other_secret else META_SECRET
        headers: dict[str, Any] = {
            "Content-Type": JSON,
            "X-Hub-Signature-256": meta_signature(body, secret),
        }
        return InboundRequest(body, headers, url=url or self.url, received_at=at)

    def mutations(self, body: bytes) -> st.SearchStrategy[bytes]:
        return json_mutations(body, META_WORDS)


def test_every_registered_provider_has_a_conformance_suite() -> None:
    """A provider added to the registry without a suite here fails this."""
    from adapters.providers.registry import PROVIDERS

    covered = {
        cls.provider for cls in globals().values()
        if isinstance(cls, type) and cls.__name__.startswith("Test")
        and issubclass(cls, ProviderAdapterContract)
    }  # fmt: skip
    assert covered == set(PROVIDERS)
