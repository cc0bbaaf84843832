"""One place that keeps secrets out of what Engage prints, logs and keeps for an operator.

Two layers, both in `redact_line` (errors the CLI prints) and `redact` (stricter about URLs:
delivery reasons):

- shapes that carry secrets, whoever wrote them: a URL's `user:password@` (a store URL, a
  libpq error quoting its connection string), a URL's query or fragment (`?token=…`), and
  `password=…`-style pairs;
- the secret values themselves: those read from the environment (`SECRET_VARIABLES`) and those
  the running process was given some other way and `remember`ed (a destination's secret from
  the settings file, a store URL's password). A known value is replaced wherever it appears,
  even where no shape gives it away (a library echoing a token in its own words).

`redact_values` is the second layer alone, for output that must stay as it is apart from the
secrets (JSON on stdout, a held request's body shown to an operator); `redacted_output` applies
it to everything the CLI writes to stdout and stderr.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

__all__ = [
    "MASK",
    "SECRET_VARIABLES",
    "SHORTEST",
    "URL_VARIABLES",
    "RedactingStream",
    "known_secrets",
    "redact",
    "redact_line",
    "redact_url",
    "redact_values",
    "redacted_output",
    "remember",
    "remember_url_password",
]


MASK = "***"
# Variables whose values are secrets. ENGAGE_SENDGRID_PUBLIC_KEY is a public key: not one.
SECRET_VARIABLES = (
    "ENGAGE_TWILIO_AUTH_TOKEN",
    "ENGAGE_META_APP_SECRET",
    "ENGAGE_META_VERIFY_TOKEN",
    "ENGAGE_WEBHOOK_SECRET",
    "ENGAGE_WEBHOOK_URL",  # a webhook's URL is often a capability: its path or ?token= is one
    "ENGAGE_SEGMENT_WRITE_KEY",
    "ENGAGE_POSTGRES_PASSWORD",
    "ENGAGE_WRITE_KEY",
    "ENGAGE_API_TOKEN",
    "ENGAGE_LINK_SECRET",
)
# Variables holding URLs whose password is a secret (the rest of the URL is not).
URL_VARIABLES = ("ENGAGE_STORE", "ENGAGE_SQL_URL")
# Shorter values are not replaced wherever they occur: "abc" would mangle every word holding
# it, and so few characters guard nothing anyway.
SHORTEST = len(MASK) + 1

# `scheme://user:password@` (greedy up to the authority's last `@`: a password may hold one)
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@")
# `scheme://user:password@`: the password alone (for URLs shown whole, like a store's)
_PASSWORD = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#:@]*):[^\s/?#]*@")
# a URL's query string or fragment: where tokens travel (`?token=…`, `#access_token=…`)
_QUERY = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")
# `password=…` in a libpq key/value connection string, and the like
_KEYWORD = re.compile(
    r"\b(password|passwd|pwd|secret|token|api_?key|write_?key|access_token)(\s*=\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
    re.IGNORECASE,
)

_remembered: set[str] = set()
_lock = threading.Lock()


def remember(*values: str | None) -> None:
    """Treat these values as secrets from now on, in this process (empty ones are ignored)."""
    with _lock:
        _remembered.update(v for v in values if v)


def remember_url_password(url: str) -> None:
    """A URL's password (as given and percent-decoded) is a secret from now on."""
    remember(*_url_passwords(url))


# everything between `scheme://` and the last `@` of a URL without spaces: a password may hold
# an unescaped `/`, `?` or `#` (base64 passwords do), which URL parsing takes for the path
_LENIENT_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(\S*)@")


def _url_passwords(url: str) -> tuple[str, ...]:
    if "@" not in url:
        return ()
    found: list[str] = []
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None  # not a URL: the lenient reading below, and `redact_line`'s shapes
    if password:
        found.append(password)
    lenient = _LENIENT_USERINFO.match(url.strip())
    if lenient and ":" in lenient.group(1):
        found.append(lenient.group(1).split(":", 1)[1])
    return tuple({v for p in found for v in (p, unquote(p))})


def known_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret value known now, longest first (so a secret holding another goes whole)."""
    environ = os.environ if environ is None else environ
    values = {environ.get(name, "").strip() for name in SECRET_VARIABLES}
    values |= {environ.get(name, "") for name in SECRET_VARIABLES}
    # each secret of a rotated, comma-separated list is a secret on its own
    values |= {p.strip() for name in SECRET_VARIABLES for p in environ.get(name, "").split(",")}
    values |= {p for name in URL_VARIABLES for p in _url_passwords(environ.get(name, ""))}
    with _lock:
        values |= _remembered
    return sorted((v for v in values if len(v) >= SHORTEST), key=len, reverse=True)


def redact_values(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every known secret value replaced by `***`, and nothing else changed."""
    for secret in known_secrets() if secrets is None else secrets:
        while secret in text:  # again: masking "a****" in "aa****" makes it anew
            text = text.replace(secret, MASK)  # shorter each time (len(secret) > len(MASK))
    return text


def redact_line(text: str) -> str:
    """`text` made one line, with known secret values, URLs' passwords and `password=…`-style
    values as `***`; the rest kept (a store URL keeps its user, host, database and query), so
    an error still says what it was about. What the CLI prints as an error goes through this."""
    text = _PASSWORD.sub(r"\1:***@", redact_values(text))
    text = _KEYWORD.sub(r"\1\2***", text)
    return redact_values(" ".join(text.split()))  # again: joining lines may make one anew


def redact(text: str) -> str:
    """`redact_line`, and stricter about URLs: all of a URL's credentials become `***@`, and
    its query string and fragment go (a webhook's `?token=` is one). Delivery reasons, kept in
    dead letters and printed by `engage dead-letters list`, go through this. A defence in
    depth: reasons are built not to carry secrets, but some come from libraries (urllib,
    psycopg) that quote what they were given."""
    text = _USERINFO.sub(r"\1***@", redact_values(text))
    text = _QUERY.sub(r"\1", text)
    return redact_line(text)


def redact_url(url: str) -> str:
    """A URL fit to print: its password (and any known secret) as `***`, the user, host and
    path kept, so an operator still sees which store is meant."""
    return _PASSWORD.sub(r"\1:***@", redact_values(url))


class RedactingStream:
    """A text stream that writes through to another with every known secret value masked.
    What a line holds is masked whoever printed it: our messages, argparse's, a library's log
    record. (A secret split across two writes would pass; `print` writes each argument whole.)
    """

    def __init__(self, stream: TextIO, *, diagnostics: bool = False) -> None:
        self._stream = stream
        # stderr: when its reader goes away (`engage … 2>&1 | head`), what was being done goes
        # on and its summary still reaches stdout; losing the diagnostics must not stop an
        # import half-way with exit 0
        self._diagnostics = diagnostics

    def write(self, text: str) -> int:
        try:
            self._stream.write(redact_values(text))
        except BrokenPipeError:
            if not self._diagnostics:
                raise
            self._stream = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the stream
        return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            if not self._diagnostics:
                raise
            self._stream = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the stream

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream, attribute)  # flush, fileno, isatty, encoding, buffer…


@contextmanager
def redacted_output() -> Iterator[None]:
    """`sys.stdout` and `sys.stderr` masked of known secrets for the duration of the block."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(stdout)
    sys.stderr = RedactingStream(stderr, diagnostics=True)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr
