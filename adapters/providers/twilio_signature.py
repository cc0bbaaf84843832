"""Twilio's request signatures: the HMAC it computes, and the URLs it may have signed.

Written to agree exactly with Twilio's own `RequestValidator` (a property test compares the two
over many URLs), because a URL behind a proxy or a port is where signatures fail in practice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from types import MappingProxyType

_DEFAULT_PORTS = MappingProxyType({"https": "443", "http": "80"})
_SHOWN_URL = 300  # characters of a URL named in a refusal
_PORT = re.compile(r"[0-9]{1,5}")


def expected_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """`X-Twilio-Signature` for a request: base64 HMAC-SHA1, keyed with the auth token, of the
    URL followed by each parameter name and value, names sorted, a repeated name's distinct
    values sorted (as Twilio's own `RequestValidator.compute_signature`). For JSON bodies pass
    no parameters: the body is bound through `bodySHA256` in the URL instead."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    pairs = (name + value for name in sorted(values) for value in sorted(values[name]))
    signed = url + "".join(pairs)
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def body_sha256(body: bytes) -> str:
    """The `bodySHA256` Twilio puts in the URL of a JSON webhook: hex SHA-256 of the raw body."""
    return hashlib.sha256(body).hexdigest()


def signed_url_variants(url: str) -> tuple[str, ...]:
    """The URLs Twilio may have signed for the one received, as Twilio's own
    `RequestValidator.validate` tries them: as received, and with its port removed when it has
    one (any port: Twilio does not always sign the port), or with the scheme's default port
    added when it has none (Twilio's back ends differ, and so may the proxy in front of us).
    The fragment is dropped: Twilio's connection overrides (`#rc=2`) ride there and are not
    signed. Basic-auth credentials in the URL (`user:password@`) are not signed for messaging
    either: the variants without them count too."""
    url = url.partition("#")[0]
    scheme, separator, rest = url.partition("://")
    default = _DEFAULT_PORTS.get(scheme.lower())
    if not separator or default is None:
        return (url,)
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, host_port = authority.rpartition("@")
    heads = [f"{scheme}://{userinfo}{at}", f"{scheme}://"] if at else [f"{scheme}://"]
    host, colon, port = host_port.rpartition(":")
    variants: list[str] = [url]
    for head in heads:
        if not colon or host_port.endswith("]"):  # no port (an IPv6 literal's colons: in [])
            found = [f"{head}{host_port}{tail}", f"{head}{host_port}:{default}{tail}"]
        elif _PORT.fullmatch(port) and 0 < int(port) < 65536:
            found = [f"{head}{host_port}{tail}", f"{head}{host}{tail}"]
        else:  # not a port (the SDK fails on it): only the URL as received
            found = [f"{head}{host_port}{tail}"]
        variants.extend(v for v in found if v not in variants)
    return tuple(variants)


def shown_url(url: str) -> str:
    """The URL a signature was checked against, for a refusal: without the fragment (never
    signed), a basic-auth password masked, cut short."""
    url = encodable_url(url).partition("#")[0]
    scheme, separator, rest = url.partition("://")
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    userinfo, at, host_port = rest[:end].rpartition("@")
    if separator and at and ":" in userinfo:
        url = f"{scheme}://{userinfo.partition(':')[0]}:***@{host_port}{rest[end:]}"
    return url if len(url) <= _SHOWN_URL else f"{url[: _SHOWN_URL - 1]}…"


def encodable_url(url: str) -> str:
    """The URL as UTF-8 can carry it (a lone surrogate replaced), as it is signed and shown."""
    return url.encode("utf-8", "replace").decode("utf-8")
