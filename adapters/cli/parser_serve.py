"""`engage serve`'s arguments and help: the web service (`adapters.web`) under uvicorn. Its
handler, `adapters.cli.serve`, imports Starlette and uvicorn when the verb runs, never before
(`engage --help` stays light)."""

from __future__ import annotations

from adapters.cli import arguments
from adapters.cli.verbs import Verbs

MOST_WORKERS = 64
MOST_BODY_BYTES = 1024**3  # engage_core.limits' largest limit (1 GiB)

_DESCRIPTION = """\
Providers post to /webhooks/twilio, /webhooks/sendgrid and /webhooks/meta (GET too, for
Meta's handshake); /healthz says the process is alive, /readyz that its store answers and
its views are caught up, /metrics has Prometheus metrics. The service keeps the views caught
up and delivers the outbox to the configured destinations itself (one process at a time),
unless --no-deliver.
Secrets from ENGAGE_TWILIO_AUTH_TOKEN, ENGAGE_SENDGRID_PUBLIC_KEY and ENGAGE_META_APP_SECRET
(each a comma-separated list while a secret is rotated) and ENGAGE_META_VERIFY_TOKEN; every
option below also has a setting (docs/service.md). Needs the `server` extra."""


def add_parsers(verbs: Verbs) -> None:
    """Register `serve`."""
    verb = verbs.add(
        "serve", "serve the provider webhooks over HTTP (Starlette under uvicorn)",
        "prints one line once it listens:\n"
        '  {"listening": "http://HOST:PORT", "workers": N, "pid": PID}\n'
        "then serves until SIGTERM or Ctrl-C, which stop taking connections and finish the\n"
        "requests in flight first; logs go to stderr as JSON lines.\n\n"
        "exit codes: 0 stopped; 1 cannot listen on HOST:PORT, the store cannot be opened, or\n"
        "the `server` extra is not installed; 2 usage error (an option, a setting or the\n"
        "destinations' settings file cannot be used).",
        "adapters.cli.serve:serve",
        description=_DESCRIPTION,
    )  # fmt: skip
    verb.add_argument("--host", type=arguments.text, default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")  # fmt: skip
    verb.add_argument("--port", type=arguments.bounded(0, 65535), default=8000,
                      help="port to listen on (default 8000; 0: a free port, printed)")  # fmt: skip
    verb.add_argument(
        "--workers", type=arguments.bounded(1, MOST_WORKERS), default=1,
        help="processes serving, each with its own application (default 1)",
    )  # fmt: skip
    verb.add_argument(
        "--public-url", metavar="URL", type=arguments.text, default=None,
        help="the base URL providers call, e.g. https://engage.example.com; signatures are "
        "checked over it plus the path and query (default: $ENGAGE_PUBLIC_URL, else the "
        "request's own URL)",
    )  # fmt: skip
    verb.add_argument(
        "--forwarded-allow-ips", metavar="IPS", type=arguments.text, default=None,
        help="comma-separated addresses or networks (or *) of proxies whose X-Forwarded-Proto "
        "and X-Forwarded-Host are believed (default: $ENGAGE_FORWARDED_ALLOW_IPS, else none)",
    )  # fmt: skip
    verb.add_argument(
        "--max-body-bytes", metavar="N", type=arguments.bounded(1, MOST_BODY_BYTES),
        default=None,
        help="webhook body limit, 413 above it (default: $ENGAGE_MAX_PROVIDER_BODY_BYTES, "
        "else 1 MiB)",
    )  # fmt: skip
    verb.add_argument(
        "--no-deliver", action="store_true",
        help="neither keep the views nor deliver to destinations here (run `engage deliver "
        "--follow` elsewhere); default: $ENGAGE_SERVE_DELIVER, else deliver",
    )  # fmt: skip
