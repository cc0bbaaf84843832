"""POST a batch over HTTP with the standard library, and sort what came back into delivered,
worth retrying, or not: 2xx delivered; 408, 429, 5xx, timeouts and connection errors
transient (with the receiver's `Retry-After`, in seconds or as an HTTP date); any other status
permanent. Redirects are not followed: urllib would re-send a POST as a GET without its body.

Reasons never carry the URL's path, query or credentials (a webhook URL is often a secret in
itself), only its scheme and host.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from adapters.destinations.base import PermanentFailure, TransientFailure

USER_AGENT = "engage-core"
TRANSIENT_STATUSES = frozenset({408, 425, 429})
SNIPPET = 200  # characters of a refusal's response body kept in the reason


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirects)


def where(url: str) -> str:
    """The part of a URL that is safe to print: scheme and host (and port)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def check_url(url: str) -> str | None:
    """Why `url` cannot be POSTed to, or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        return f"not a valid URL ({error})"
    if parts.scheme not in {"http", "https"}:
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (user:password@); use the destination's secret"
    return None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header in seconds from now: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST `body`; the 2xx status, or raise `TransientFailure` / `PermanentFailure`."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        raise _refusal(url, error) from None
    except urllib.error.URLError as error:
        raise TransientFailure(f"{where(url)} unreachable: {error.reason}") from None
    except TimeoutError:
        raise TransientFailure(f"{where(url)} did not answer within {timeout:g} s") from None
    except (http.client.HTTPException, OSError) as error:
        raise TransientFailure(f"{where(url)}: {type(error).__name__}: {error}") from None
    except ValueError as error:  # a URL urllib cannot use (settings check most of them first)
        raise PermanentFailure(f"{where(url)}: {error}") from None


def _refusal(url: str, error: urllib.error.HTTPError) -> TransientFailure | PermanentFailure:
    status = error.code
    try:
        text = error.read(SNIPPET * 4).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        text = ""
    text = " ".join(text.split())[:SNIPPET]
    reason = f"HTTP {status} from {where(url)}" + (f": {text}" if text else "")
    if 300 <= status < 400:
        return PermanentFailure(f"{reason} (redirects are not followed: use the final URL)")
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientFailure(reason, retry_after(error.headers.get("Retry-After")))
    return PermanentFailure(reason)
