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
| `write_keys` | `ENGAGE_WRITE_KEY` (a list) | unset: the Tracking API refuses all |
| `api_tokens` | `ENGAGE_API_TOKEN` (a list) | unset: `/api/`, the Public API refuse all |
| `space` | `ENGAGE_SPACE` | `default` |
| `deliver` | `ENGAGE_SERVE_DELIVER` (`0` or `1`) | `1`: views, destinations kept up here |
| `ready_max_lag` | `ENGAGE_READY_MAX_LAG` (events the views may be behind) | 10000 |
| `imports_dir` | `ENGAGE_IMPORTS_DIR` (error files of CSV imports over HTTP) | `engage-imports` |
| `held_per_minute` | `ENGAGE_HELD_PER_MINUTE` (refused requests held per source IP) | 60 |
| `links` (the pages' signer) | none: given in code; unset, the application's | none |
| `templates_dir` | `ENGAGE_TEMPLATES` (templates overriding the pages', by name) | none |
| `notice_version` | `ENGAGE_NOTICE_VERSION` (the wording a page's proof records) | a digest |

The secrets are `ENGAGE_TWILIO_AUTH_TOKEN`, `ENGAGE_SENDGRID_PUBLIC_KEY` and
`ENGAGE_META_APP_SECRET`; a request verifies when any one secret listed verifies it.
Every value is checked when the settings are made, so a misconfigured service stops at start
(`ValueError` naming the variable) rather than refusing requests one by one. The pages' link
signer is the exception: the application's own, which `open_application` makes from
`ENGAGE_LINK_SECRET`, `ENGAGE_PUBLIC_URL` and `ENGAGE_LINK_EXPIRES` without ever failing over
them (`adapters.stores.links_settings`), so a link misconfigured stops the pages (503), never
the webhooks.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from adapters.providers.base import ProviderAdapter
from adapters.providers.meta import VERIFY_TOKEN_VAR
from adapters.providers.registry import PROVIDERS, rotating_adapter_for
from adapters.stores import STORE_ENV_VAR
from engage_core.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from engage_core.links import LinkSigner

__all__ = [
    "API_TOKEN_VAR",
    "FORWARDED_ALLOW_IPS_VAR",
    "NOTICE_VERSION_VAR",
    "PUBLIC_URL_VAR",
    "SPACE_VAR",
    "TEMPLATES_VAR",
    "THREADS_VAR",
    "WRITE_KEY_VAR",
    "Network",
    "WebSettings",
    "webhook_adapters",
]

PUBLIC_URL_VAR = "ENGAGE_PUBLIC_URL"
FORWARDED_ALLOW_IPS_VAR = "ENGAGE_FORWARDED_ALLOW_IPS"
THREADS_VAR = "ENGAGE_WEB_THREADS"
WRITE_KEY_VAR = "ENGAGE_WRITE_KEY"
API_TOKEN_VAR = "ENGAGE_API_TOKEN"
SPACE_VAR = "ENGAGE_SPACE"
DELIVER_VAR = "ENGAGE_SERVE_DELIVER"
READY_MAX_LAG_VAR = "ENGAGE_READY_MAX_LAG"
HELD_PER_MINUTE_VAR = "ENGAGE_HELD_PER_MINUTE"
IMPORTS_DIR_VAR = "ENGAGE_IMPORTS_DIR"
TEMPLATES_VAR = "ENGAGE_TEMPLATES"
NOTICE_VERSION_VAR = "ENGAGE_NOTICE_VERSION"
MOST_THREADS = 256
MOST_COUNT = 10**9

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


def _secrets(value: Any) -> tuple[str, ...]:
    """A comma-separated list (a secret being rotated), or a sequence; blanks dropped."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(str(item).strip() for item in items if str(item).strip())


def _space(_: object, __: attrs.Attribute[str], value: str) -> None:
    if not value or len(value) > 100 or not value.isascii() or not value.isprintable() \
            or "/" in value:  # fmt: skip
        raise ValueError(
            f"{SPACE_VAR}: 1 to 100 printable ASCII characters, no '/' (got {value!r})"
        )


def _templates_dir(value: str | None) -> str | None:
    """A directory that exists (its templates are read when the app is made); None when blank."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if not Path(text).is_dir():
        raise ValueError(f"{TEMPLATES_VAR}: not a directory ({text!r})")
    return text


def _notice(value: str | None) -> str | None:
    """1 to 128 printable characters (the most a proof keeps of it); None when blank."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) > 128 or not text.isprintable():
        raise ValueError(f"{NOTICE_VERSION_VAR}: 1 to 128 printable characters (got {text!r})")
    return text


def _count(variable: str) -> Any:
    def check(_: object, __: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MOST_COUNT:
            raise ValueError(f"{variable}: a whole number from 0 to {MOST_COUNT} (got {value!r})")

    return check


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
    # Segment write keys the Tracking API accepts (Basic auth, the key as user name)
    write_keys: tuple[str, ...] = attrs.field(default=(), converter=_secrets, repr=False, eq=False)
    # Bearer tokens `/api/` and the Public API accept
    api_tokens: tuple[str, ...] = attrs.field(default=(), converter=_secrets, repr=False, eq=False)
    # the one space the Public API serves (`/spaces/{space}/...`; any other is 404)
    space: str = attrs.field(default="default", validator=_space)
    # keep the views caught up and deliver to destinations in the service itself
    deliver: bool = True
    # /readyz answers 503 while the views are more than this many events behind the log
    ready_max_lag: int = attrs.field(default=10_000, validator=_count(READY_MAX_LAG_VAR))
    # refused (unauthenticated) requests held per source IP per minute; beyond, refused unheld
    held_per_minute: int = attrs.field(default=60, validator=_count(HELD_PER_MINUTE_VAR))
    # where `POST /api/subscriptions/csv` keeps each import's error file
    imports_dir: str = "engage-imports"
    # signs and reads the contact's page links; None: the application's own (`app.links`)
    links: LinkSigner | None = attrs.field(default=None, repr=False, eq=False)
    # templates overriding the pages' own, by file name (`adapters/web/templates/`)
    templates_dir: str | None = attrs.field(default=None, converter=_templates_dir)
    # the notice (wording) version a page's proof records; None: a digest of the templates
    notice_version: str | None = attrs.field(default=None, converter=_notice)
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
            threads=_whole(env.get(THREADS_VAR), 8, THREADS_VAR),
            store_url=env.get(STORE_ENV_VAR) or None,
            adapters=webhook_adapters(env),
            meta_verify_token=env.get(VERIFY_TOKEN_VAR),
            write_keys=env.get(WRITE_KEY_VAR, ""),
            api_tokens=env.get(API_TOKEN_VAR, ""),
            space=(env.get(SPACE_VAR) or "default").strip(),
            deliver=_flag(env.get(DELIVER_VAR), DELIVER_VAR, default=True),
            ready_max_lag=_whole(env.get(READY_MAX_LAG_VAR), 10_000, READY_MAX_LAG_VAR),
            held_per_minute=_whole(env.get(HELD_PER_MINUTE_VAR), 60, HELD_PER_MINUTE_VAR),
            imports_dir=(env.get(IMPORTS_DIR_VAR) or "engage-imports").strip(),
            templates_dir=env.get(TEMPLATES_VAR),
            notice_version=env.get(NOTICE_VERSION_VAR),
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


def _whole(text: str | None, default: int, variable: str) -> int:
    if text is None or not text.strip():
        return default
    if not text.strip().isdigit() or not text.strip().isascii():
        raise ValueError(f"{variable}: a whole number (got {text!r})")
    return int(text.strip())


def _flag(text: str | None, variable: str, *, default: bool) -> bool:
    if text is None or not text.strip():
        return default
    value = text.strip().lower()
    if value not in {"0", "1", "true", "false", "yes", "no"}:
        raise ValueError(f"{variable}: 1 or 0 (got {text!r})")
    return value in {"1", "true", "yes"}
