"""`engage serve`: the web service (`adapters.web`) under uvicorn, until SIGTERM or Ctrl-C.

The options become the settings' environment variables, so one process and N workers read
the very same settings: with one worker the app runs here, over an application opened here
(a store that cannot be opened fails before anything listens); with more, each worker is a
process of its own calling `adapters.web.app:create_app_from_environment` (uvicorn's factory
mode), so each opens its own application, and the socket, bound here, is shared.

Shutdown is uvicorn's: on SIGTERM or SIGINT it stops accepting, finishes the requests in flight
(each is saved whole or not at all, and answered), runs the app's shutdown (the follower that
delivers stops after the batch in flight), then returns.

Logs are JSON lines on stderr (`adapters.web.observability.LOG_CONFIG`): Engage's access and
error lines, with request ids, and uvicorn's own. uvicorn's access log is off: a query can
hold a secret (Meta's handshake carries the verify token), and its line is written by uvicorn,
not by Engage, which logs the path without the query.

The destinations' settings are read before anything listens when the service delivers, so a
broken `engage.toml` is a usage error here rather than a service that starts and never
delivers. So are the deployment's consent settings (`adapters.stores.configure`) and the
pages' templates (`ENGAGE_TEMPLATES`, built as the app builds them): one that cannot be used is
a usage error (exit 2, one line naming the variable) before anything listens, never N workers
each dying on start and being started again, nor an internal error.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from adapters.cli.errors import CommandFailed, UsageError
from adapters.cli.render import dumps

FACTORY = "adapters.web.app:create_app_from_environment"
GRACE_SECONDS = 30  # how long in-flight requests may take to finish once asked to stop


class _Stopped(Exception):
    """SIGTERM or SIGINT, once uvicorn is done with it (it re-raises what it caught)."""


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """The settings the options give, as the variables the settings read."""
    given = {
        "ENGAGE_STORE": args.store,
        "ENGAGE_PUBLIC_URL": args.public_url,
        "ENGAGE_FORWARDED_ALLOW_IPS": args.forwarded_allow_ips,
        "ENGAGE_MAX_PROVIDER_BODY_BYTES": None if args.max_body_bytes is None
        else str(args.max_body_bytes),
        "ENGAGE_SERVE_DELIVER": "0" if args.no_deliver else None,
    }  # fmt: skip
    return {name: value for name, value in given.items() if value is not None}


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only for a socket
    # that says it is TCP; without it every answer waits ~40 ms on Nagle and delayed ACKs
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CommandFailed(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(2048)  # uvicorn's backlog: from the listening line on, connections queue
    sock.set_inheritable(True)  # the workers, when there are some, serve it too
    return sock


@contextmanager
def _stopping() -> Iterator[None]:
    """SIGTERM and SIGINT end the command (exit 0) once uvicorn has drained and re-raised
    them; before uvicorn takes them over, they end it at once (nothing is in flight yet)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _config(app: Any, workers: int) -> Any:
    import uvicorn

    from adapters.web.observability import LOG_CONFIG

    return uvicorn.Config(
        app, factory=isinstance(app, str), workers=workers, lifespan="on",
        proxy_headers=False,  # the app decides whom to believe (--forwarded-allow-ips)
        access_log=False, server_header=False, timeout_graceful_shutdown=GRACE_SECONDS,
        log_config=LOG_CONFIG,
    )  # fmt: skip


def _check_settings(settings: Any) -> None:
    """What every worker's app reads at start, read here first: the consent settings the
    application is opened with, and the pages' templates (each compiled and tried): a usage
    error naming the variable, before anything listens."""
    from adapters.stores.configure import configuration_from_environment
    from adapters.web.page_render import PageTemplates

    try:
        configuration_from_environment(os.environ)
        PageTemplates(settings.templates_dir, settings.notice_version)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _check_destinations(store: str, settings: Any) -> None:
    """The destinations' settings, read now when this service delivers: a usage error before
    anything listens, not a service that never delivers."""
    if not settings.deliver:
        return
    from adapters.destinations import ConfigError, load_settings

    try:
        destinations = load_settings(store)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    for configured in destinations.destinations.values():
        configured.destination.close()


def _announce(sock: socket.socket, workers: int) -> None:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(dumps({"listening": f"http://{shown}:{port}", "workers": workers, "pid": os.getpid()}))
    sys.stdout.flush()


def _open_store(store: str) -> Any:
    """The application on `store`, or one line and exit 1 when it cannot be opened (a file
    that is not a database, a server that does not answer): said before anything listens."""
    from adapters.redaction import redact_line
    from adapters.stores import open_application

    try:
        return open_application(store)
    except Exception as error:  # whatever the store's driver raises: the operator's to read
        reason = redact_line(f"{type(error).__name__}: {error}")[:500]
        raise CommandFailed(f"cannot open the store: {reason}") from None


def _serve_here(sock: socket.socket, settings: Any, store: str) -> None:
    """One worker: the app in this process, over an application opened here first."""
    import uvicorn

    from adapters.web import create_app

    application = _open_store(store)
    try:
        server = uvicorn.Server(_config(create_app(application, settings), 1))
        _announce(sock, 1)
        server.run(sockets=[sock])
    finally:
        application.close()


def _serve_workers(sock: socket.socket, workers: int, store: str) -> None:
    """N workers: uvicorn's supervisor, each worker calling the factory. The store is opened
    (and closed) here first, so one that cannot be opened is one line and exit 1 before the
    listening line, as with one worker; and a worker that fails to start anyway (uvicorn then
    stops them all) is exit 1 too, not a quiet 0."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    _open_store(store).close()
    config = _config(FACTORY, workers)
    _announce(sock, workers)
    supervisor = Multiprocess(config, sockets=[sock])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise CommandFailed("a worker failed to start, so all were stopped (its lines on "
                            "stderr say why)")  # fmt: skip


def serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401

        from adapters.web import WebSettings
    except ImportError as error:
        raise CommandFailed(
            f"engage serve needs the server extra ({error.name} is missing): "
            "pip install 'engage-core[server]'"
        ) from None
    os.environ.update(_environment(args))  # read by this process and by every worker
    try:
        settings = WebSettings.from_environment(os.environ)
    except ValueError as error:
        raise UsageError(str(error)) from None
    _check_settings(settings)
    _check_destinations(args.store, settings)
    sock = _bind(args.host, args.port)
    try:
        with _stopping():
            if args.workers == 1:
                _serve_here(sock, settings, args.store)
            else:
                _serve_workers(sock, args.workers, args.store)
    finally:
        sock.close()
    return 0
