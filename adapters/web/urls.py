"""The URL a provider called, as it signed it, rebuilt on our side of any proxy.

Twilio signs the full URL it called (scheme, host, path, query); behind a proxy that
terminates TLS or rewrites the host, the URL the server sees is another one. Two ways back:
`public_url` (the base URL providers call, from the settings: it wins), or, from a peer the
settings trust, its `X-Forwarded-Proto` and `X-Forwarded-Host`. A forwarded header from any
other peer is ignored: anyone could send one.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from adapters.web.settings import WebSettings

__all__ = ["client_address", "public_url", "request_url"]

_SCHEMES = frozenset({"http", "https"})


def _first(value: str | None) -> str:
    """The first of a comma-separated header's values (the proxy nearest the provider)."""
    return (value or "").split(",")[0].strip()


def request_url(
    *,
    scheme: str,
    host: str,
    path: str,
    query: str,
    peer: str | None,
    headers: Mapping[str, str],
    settings: WebSettings,
) -> str:
    """The URL as the provider called it, from what reached the server: `path` as received
    (still percent-encoded) and the raw `query`; the scheme and host from a trusted peer's
    `X-Forwarded-Proto` / `X-Forwarded-Host` when it sends them. `headers` is looked up by
    lower-case name."""
    if settings.trusts(peer):
        forwarded_scheme = _first(headers.get("x-forwarded-proto")).lower()
        if forwarded_scheme in _SCHEMES:
            scheme = forwarded_scheme
        host = _first(headers.get("x-forwarded-host")) or host
    url = f"{scheme}://{host}{path}"
    return f"{url}?{query}" if query else url


def public_url(url: str, settings: WebSettings) -> str:
    """`url` with `settings.public_url` in place of its scheme and host (any path prefix of
    the public URL before its path); `url` itself without a public URL set."""
    if settings.public_url is None:
        return url
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{settings.public_url}{path}" + (f"?{parts.query}" if parts.query else "")


def client_address(peer: str | None, headers: Mapping[str, str], settings: WebSettings) -> str:
    """Who sent the request, for per-source limits: the peer, or, behind proxies the settings
    trust, the nearest address in `X-Forwarded-For` that is not one of them (the ones to its
    left could be written by anyone). Trusting any peer (`*`), every hop would count as a
    proxy and the walk would end on the leftmost entry, the one the sender writes itself, so
    then the entry nearest the peer is taken: the one the proxy in front of us appended.
    `headers` is looked up by lower-case name."""
    address = peer or "unknown"
    if not settings.trusts(address):
        return address
    hops = [hop.strip() for hop in (headers.get("x-forwarded-for") or "").split(",")]
    nearest_first = [hop[:64] for hop in reversed(hops) if hop]
    if "*" in settings.forwarded_allow_ips:
        return nearest_first[0] if nearest_first else address
    for hop in nearest_first:
        address = hop
        if not settings.trusts(address):
            break
    return address
