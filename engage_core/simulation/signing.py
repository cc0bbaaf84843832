"""Sign requests exactly as Twilio, SendGrid and Meta sign them, with deterministic test keys.

A test of a webhook endpoint is only worth something when its requests are signed the way the
provider signs them: these functions are checked (in Engage's tests) against the providers' own
libraries (Twilio's `RequestValidator`, SendGrid's `EventWebhook`) and against Engage's
adapters. `test_keys(seed)` gives a complete, reproducible set of secrets (a SendGrid P-256 key
pair derived from the seed, a Twilio Auth Token, a Meta app secret and verify token) and the
`ENGAGE_*` environment the adapters read them from, so a test or a simulated run needs no
secret of anyone's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "TestKeys",
    "public_key_text",
    "sign_meta",
    "sign_sendgrid",
    "sign_twilio",
    "test_keys",
]

# P-256's group order: a private scalar must lie in [1, order - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def sign_twilio(url: str, params: Mapping[str, str], token: str) -> str:
    """`X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the Auth Token, of the full URL
    followed by each parameter's name and value, names sorted (Twilio's own scheme). For a
    JSON webhook pass no parameters and put `bodySHA256` in the URL."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_sendgrid(body: bytes, private_key: ec.EllipticCurvePrivateKey, timestamp: int) -> str:
    """`X-Twilio-Email-Event-Webhook-Signature`: base64 DER ECDSA (P-256, SHA-256) over the
    timestamp header's text followed by the raw body. Send `str(timestamp)` as
    `X-Twilio-Email-Event-Webhook-Timestamp` beside it.

    Deterministic (RFC 6979) where both `cryptography` and the OpenSSL underneath support it,
    so the same body, key and timestamp give the same bytes and simulated traffic is
    reproducible; elsewhere the signature is random, and as valid."""
    signed = str(timestamp).encode("ascii") + body
    try:
        deterministic = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except TypeError:  # a cryptography too old to know the option
        deterministic = None
    if deterministic is not None:
        try:
            return base64.b64encode(private_key.sign(signed, deterministic)).decode("ascii")
        except UnsupportedAlgorithm:  # OpenSSL before 3.2
            pass
    signature = private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode("ascii")


def sign_meta(body: bytes, secret: str) -> str:
    """`X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body, keyed with the
    app secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def public_key_text(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid's console shows it: base64 DER SubjectPublicKeyInfo
    on one line (what `ENGAGE_SENDGRID_PUBLIC_KEY` takes)."""
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


@attrs.frozen(repr=False)
class TestKeys:
    """Every secret a simulated provider signs with, and the public key Engage verifies
    SendGrid's signatures with. Made up from a seed: never anyone's real secrets, but secrets
    all the same for the run they sign, so `repr` shows none of them."""

    __test__ = False  # not a pytest test class, despite its name

    twilio_token: str
    sendgrid_private_key: ec.EllipticCurvePrivateKey
    sendgrid_public_key: str
    meta_app_secret: str
    meta_verify_token: str

    def environ(self) -> dict[str, str]:
        """The `ENGAGE_*` variables the adapters read their secrets from."""
        return {
            "ENGAGE_TWILIO_AUTH_TOKEN": self.twilio_token,
            "ENGAGE_SENDGRID_PUBLIC_KEY": self.sendgrid_public_key,
            "ENGAGE_META_APP_SECRET": self.meta_app_secret,
            "ENGAGE_META_VERIFY_TOKEN": self.meta_verify_token,
        }

    def __repr__(self) -> str:
        return f"TestKeys(sendgrid_public_key={self.sendgrid_public_key!r}, secrets=***)"


def _hex(seed: int, label: str, length: int) -> str:
    """`length` hex digits drawn from the seed for one purpose (a label keeps them apart)."""
    return hashlib.sha256(f"engage-test-keys:{seed}:{label}".encode()).hexdigest()[:length]


def test_keys(seed: int = 0) -> TestKeys:  # noqa: PT028 (a factory, not a test)
    """A reproducible set of provider secrets: the same seed gives the same keys, bit for bit
    (the SendGrid key is derived from the seed, so signatures verify across processes)."""
    scalar = int(_hex(seed, "sendgrid", 64), 16) % (_P256_ORDER - 1) + 1
    private_key = ec.derive_private_key(scalar, ec.SECP256R1())
    return TestKeys(
        twilio_token=_hex(seed, "twilio", 32),  # Auth Tokens are 32 hex digits
        sendgrid_private_key=private_key,
        sendgrid_public_key=public_key_text(private_key),
        meta_app_secret=_hex(seed, "meta", 32),  # so are Meta's app secrets
        meta_verify_token=f"verify-{_hex(seed, 'verify', 12)}",
    )


test_keys.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name
