"""POST a batch over HTTP with the standard library, and sort what came back into delivered,
worth retrying, or not: 2xx delivered; 408, 425, 429, 5xx, timeouts and connection errors
transient (with the receiver's `Retry-After`, in seconds or as an HTTP date); 413 too large
(delivery splits the batch); 401, 403, 404 and redirects a misconfiguration (the destination
stops rather than park every batch); any other status permanent. Redirects are not followed:
urllib would re-send a POST as a GET without its body.

Reasons never carry the URL's path, query or credentials (a webhook URL is often a secret in
itself), only its scheme and host; nor the text of a URL parser's error, which quotes the URL.
"""

from __future__ import annotations

import http.client
import unicodedata
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from adapters.destinations.base import (
    DeliveryFailed,
    Misconfigured,
    PermanentFailure,
    TooLarge,
    TransientFailure,
)

USER_AGENT = "engage-core"
TRANSIENT_STATUSES = frozenset({408, 425, 429})
# the receiver refuses our credentials or does not know the URL: every batch would fail alike
MISCONFIGURED_STATUSES = frozenset({401, 403, 404})
SNIPPET = 200  # characters of a refusal's response body kept in the reason
# The longest Retry-After taken at its word (a day): a bogus or absurd header (`99999999999`)
# must not stop a destination for years, nor overflow a sleep.
LONGEST_RETRY_AFTER = 86_400.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirects)


def where(url: str) -> str:
    """The part of a URL that is safe to print: scheme and host (and port)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # settings check URLs first; never let a message be the failure
        return "the configured URL"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}"


def check_url(url: str) -> str | None:
    """Why `url` cannot be POSTed to, or None when it can. Caught here, in the settings, a bad
    URL is one error line at startup; caught by urllib at send time, its message quotes the
    whole URL (a webhook's path and `?token=` are secrets) into dead letters. The messages
    never quote the URL."""
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in url):
        return "must not contain spaces or control characters (percent-encode them: %20)"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL (its port must be a number from 0 to 65535)"
    if parts.scheme not in {"http", "https"}:
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (user:password@); use the destination's secret"
    if not (parts.path + parts.query).isascii():
        return "must be ASCII after the host (percent-encode other characters)"
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        return "has a host name that cannot be encoded"
    return None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header in seconds from now (at most a day): delta-seconds (ASCII digits
    only: `"²".isdigit()` is true) or an HTTP date. Anything else is ignored (None), never an
    error: the header comes from the other side, and a failure to read it must not turn a
    retry into a crash."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        # int() refuses more than 4300 digits; anything past nine is over a day anyway
        seconds = float(int(value)) if len(value) <= 9 else LONGEST_RETRY_AFTER
        return min(seconds, LONGEST_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, seconds), LONGEST_RETRY_AFTER)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST `body`; the 2xx status, or raise `TransientFailure`, `PermanentFailure`,
    `TooLarge` or `Misconfigured`."""
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
    except http.client.InvalidURL as error:  # its message quotes the path and query
        raise _unusable(url, error) from None
    except (http.client.HTTPException, OSError) as error:
        raise TransientFailure(f"{where(url)}: {type(error).__name__}: {error}") from None
    except ValueError as error:  # a URL urllib cannot use (settings check most of them first)
        raise _unusable(url, error) from None


def _unusable(url: str, error: Exception) -> Misconfigured:
    # the class name only: the messages of URL errors quote the URL
    return Misconfigured(
        f"{where(url)}: the URL cannot be used ({type(error).__name__}); check the destination's "
        "url"
    )


def _refusal(url: str, error: urllib.error.HTTPError) -> DeliveryFailed:
    status = error.code
    try:
        text = error.read(SNIPPET * 4).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError):
        text = ""
    text = " ".join(text.split())[:SNIPPET]
    reason = f"HTTP {status} from {where(url)}" + (f": {text}" if text else "")
    if 300 <= status < 400:
        return Misconfigured(f"{reason} (redirects are not followed: use the final URL)")
    if status in MISCONFIGURED_STATUSES:
        return Misconfigured(
            f"{reason} (check the destination's settings: its url, write key or secret)"
        )
    if status == 413:
        return TooLarge(reason)
    if status in TRANSIENT_STATUSES or status >= 500:
        asked = error.headers.get("Retry-After") if error.headers is not None else None
        return TransientFailure(reason, retry_after(asked))
    return PermanentFailure(reason)
