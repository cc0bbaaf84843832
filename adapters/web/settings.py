"""The web service's settings, each from one environment variable (`docs/service.md`).

| setting | variable | default |
|---|---|---|
| `limits` (the body limit is `provider_body_bytes`) | `ENGAGE_MAX_*` (`docs/limits.md`) | 1 MiB |
| `public_url` | `ENGAGE_PUBLIC_URL` | none: the URL is read from the request |
| `forwarded_allow_ips` | `ENGAGE_FORWARDED_ALLOW_IPS` | none trusted |
| `threads` | `ENGAGE_WEB_THREADS` | 8 |
| `store_url` | `ENGAGE_STORE` | `sqlite:///engage.db` |
| `adapters` | each provider's secret, a comma-separated list (below) | unset: refused |
| `meta_verify_token` | `ENGAGE_META_VERIFY_TOKEN` | unset: every handshake refused |

The secrets are `ENGAGE_TWILIO_AUTH_TOKEN`, `ENGAGE_SENDGRID_PUBLIC_KEY` and
`ENGAGE_META_APP_SECRET`; a request verifies when any one secret listed verifies it.
Every value is checked when the settings are made, so a misconfigured service stops at start
(`ValueError` naming the variable) rather than refusing requests one by one.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from adapters.providers.base import ProviderAdapter
from adapters.providers.meta import VERIFY_TOKEN_VAR
from adapters.providers.registry import PROVIDERS, rotating_adapter_for
from adapters.stores import STORE_ENV_VAR
from engage_core.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "FORWARDED_ALLOW_IPS_VAR",
    "PUBLIC_URL_VAR",
    "THREADS_VAR",
    "Network",
    "WebSettings",
    "webhook_adapters",
]

PUBLIC_URL_VAR = "ENGAGE_PUBLIC_URL"
FORWARDED_ALLOW_IPS_VAR = "ENGAGE_FORWARDED_ALLOW_IPS"
THREADS_VAR = "ENGAGE_WEB_THREADS"
MOST_THREADS = 256

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def webhook_adapters(environ: Mapping[str, str] | None = None) -> dict[str, ProviderAdapter]:
    """Every provider's adapter, its secret a comma-separated list (`rotating_adapter_for`)."""
    env = os.environ if environ is None else environ
    return {provider: rotating_adapter_for(provider, env) for provider in PROVIDERS}


def _public_url(value: str | None) -> str | None:
    """`https://host[:port][/prefix]`, without a trailing slash; None when blank."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as error:
        raise ValueError(f"{PUBLIC_URL_VAR}: not a URL ({error})") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(
            f"{PUBLIC_URL_VAR}: expected http(s)://host[:port][/prefix] (got {text!r})"
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{PUBLIC_URL_VAR}: no query, fragment or user in the public URL")
    return text.rstrip("/")


def _allowed(value: Any) -> tuple[str, ...]:
    """Addresses or networks (`10.0.0.0/8`), or `*` for any peer; a string is comma-separated."""
    items = value.split(",") if isinstance(value, str) else value
    allowed = tuple(str(item).strip() for item in items if str(item).strip())
    for item in allowed:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"{FORWARDED_ALLOW_IPS_VAR}: {item!r} is not an IP address or network"
            ) from None
    return allowed


def _threads(_: object, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MOST_THREADS:
        raise ValueError(f"{THREADS_VAR}: a whole number from 1 to {MOST_THREADS} (got {value!r})")


@attrs.frozen
class WebSettings:
    """How the service reads requests; the table atop this module names each variable."""

    # `provider_body_bytes` is the webhook body limit (413 above it); the prefix kept of a
    # refused body is `unauthenticated_body_prefix_bytes`
    limits: Limits = DEFAULT_LIMITS
    # the base URL providers call (`https://engage.example.com`): signatures are checked
    # over it plus the request's path and query, whatever reached the server
    public_url: str | None = attrs.field(default=None, converter=_public_url)
    # peers whose X-Forwarded-Proto and X-Forwarded-Host say what the provider called
    forwarded_allow_ips: tuple[str, ...] = attrs.field(default=(), converter=_allowed)
    # threads running store work at once (below the store's connection pool)
    threads: int = attrs.field(default=8, validator=_threads)
    store_url: str | None = attrs.field(default=None, repr=False)  # None: ENGAGE_STORE
    adapters: Mapping[str, ProviderAdapter] = attrs.field(
        factory=webhook_adapters, repr=False, eq=False
    )
    meta_verify_token: str | None = attrs.field(default=None, repr=False, eq=False)
    _networks: tuple[Network, ...] = attrs.field(init=False, repr=False, eq=False)
    _any_peer: bool = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        given = [item for item in self.forwarded_allow_ips if item != "*"]
        networks = tuple(ipaddress.ip_network(item, strict=False) for item in given)
        object.__setattr__(self, "_networks", networks)
        object.__setattr__(self, "_any_peer", "*" in self.forwarded_allow_ips)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        """The settings `environ` gives (default: the process environment); `ValueError`
        naming the variable when one cannot be used."""
        env = os.environ if environ is None else environ
        return cls(
            limits=Limits.from_environment(env),
            public_url=env.get(PUBLIC_URL_VAR),
            forwarded_allow_ips=env.get(FORWARDED_ALLOW_IPS_VAR, ""),
            threads=_whole(env.get(THREADS_VAR), 8),
            store_url=env.get(STORE_ENV_VAR) or None,
            adapters=webhook_adapters(env),
            meta_verify_token=env.get(VERIFY_TOKEN_VAR),
        )

    def trusts(self, peer: str | None) -> bool:
        """Whether a peer's X-Forwarded-* headers are believed."""
        if self._any_peer:
            return True
        if not peer or not self._networks:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def _whole(text: str | None, default: int) -> int:
    if text is None or not text.strip():
        return default
    if not text.strip().isdigit() or not text.strip().isascii():
        raise ValueError(f"{THREADS_VAR}: a whole number (got {text!r})")
    return int(text.strip())
