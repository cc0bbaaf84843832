"""The pipeline verbs' arguments and help: provider requests in (`ingest`, `quarantine`), the
outbox and views (`events`, `rebuild`, `digest`, `project`), and delivery out (`deliver`, `replay`,
`dead-letters`). Handlers in `adapters.cli.ingest`, `.views`, `.project` and `.destinations`."""

from __future__ import annotations

import argparse

from adapters.cli import arguments
from adapters.cli.verbs import Verbs

PROVIDERS = ("twilio", "sendgrid", "meta")  # adapters.providers.registry's (a test keeps them)
VIEWS = ("outbox", "message_status", "subscriptions", "funnel")  # adapters.views.VIEW_CLASSES
_STORE_EXIT = "exit codes: 0 done; 1 the store or its views cannot be used; 2 usage error."
_CAUGHT_UP = "The views are caught up with the log first (a progress bar on a terminal)."


def add_parsers(verbs: Verbs) -> None:
    """Register the pipeline verbs."""
    _requests(verbs)
    _views(verbs)
    _delivery(verbs)


def _requests(verbs: Verbs) -> None:
    verb = verbs.add(
        "ingest", "feed one raw provider webhook body through verification and the core",
        "prints one line of counts:\n"
        '  {"received", "applied", "unchanged", "duplicates", "late", "conflicts", "partial",\n'
        '   "rejected", "quarantined", "ignored": […]?, "errors": […]?, "held": ID?}\n'
        "a refused or held request is said on stderr (see `engage quarantine list`).\n\n"
        "exit codes: 0 something landed (or nothing failed); 1 nothing landed and something\n"
        "was rejected or held, or the file cannot be read; 2 usage error.",
        "adapters.cli.ingest:ingest_request",
    )  # fmt: skip
    verb.add_argument("provider", choices=PROVIDERS, help="who sent the request")
    verb.add_argument("file", metavar="FILE|-", help="the raw request body, or - for stdin")
    verb.add_argument(
        "--header", action="append", default=[], metavar='"Name: value"',
        help="a request header, as received (repeatable): the signature headers, Content-Type",
    )  # fmt: skip
    verb.add_argument(
        "--url", default="", help="the full URL the provider called (Twilio signs it)"
    )
    verb.add_argument(
        "--no-verify", action="store_true",
        help="skip signature verification (replaying captured payloads you trust)",
    )  # fmt: skip

    quarantine = verbs.add(
        "quarantine", "requests held because they did not apply",
        "exit codes: as each VERB's --help says.",
    )  # fmt: skip
    held = verbs.nested(quarantine)
    listing = held.add(
        "list", "held requests, oldest first, as JSON Lines",
        "prints one line per held request:\n"
        '  {"id", "provider", "received_at", "refused", "unauthenticated", "problems": [{index,\n'
        '   reason}], "times_held", "retries", "released", "url", "headers", "body_size",\n'
        '   "body_sha256", "truncated", "body" | "body_base64", …}\n\n' + _STORE_EXIT,
        "adapters.cli.ingest:list_held",
    )  # fmt: skip
    listing.add_argument("--all", action="store_true", help="released ones too")
    again = held.add(
        "retry", "run held requests again, after a fix",
        "prints one line per request retried:\n"
        '  {"id", "released": true|false, "received", "applied", …counts as `ingest`}\n'
        "a request skipped is said on stderr.\n\n"
        "exit codes: 0 every request retried was released; 1 some are still held, or a named\n"
        "one does not exist; 2 usage error.",
        "adapters.cli.ingest:retry_held",
    )  # fmt: skip
    again.add_argument("ids", nargs="*", metavar="ID", help="entries to retry (default: all held)")
    again.add_argument(
        "--no-verify", action="store_true",
        help="skip signature verification (requests whose signature never verified are only "
        "retried unverified when named by ID)",
    )  # fmt: skip


def _views(verbs: Verbs) -> None:
    events = verbs.add(
        "events", "the Segment-spec events published, as JSON Lines",
        "prints one line per event, its outbox position first:\n"
        '  {"position": N, "type": "track", "event": "…", "messageId": "…", …}\n'
        "(with --pretty, each event indented over several lines: no longer JSON Lines)\n\n"
        + _CAUGHT_UP + "\n\n" + _STORE_EXIT + " 130 when --follow is stopped.",
        "adapters.cli.views:print_events",
    )  # fmt: skip
    events.add_argument(
        "--since", type=arguments.position, default=0, metavar="POSITION",
        help="outbox position to start after (default 0: from the start)",
    )  # fmt: skip
    events.add_argument("--limit", type=arguments.positive, metavar="N", help="at most N events")
    events.add_argument("--follow", action="store_true", help="keep printing new events")

    again = verbs.add(
        "rebuild", "drop views and replay the log from position 0",
        "prints one line, per view rebuilt:\n"
        '  {"VIEW": {"events": N, "rows": N, "digest": "…", "position": N}, …}\n'
        "(a progress bar on stderr when it is a terminal)\n\n"
        "exit codes: 0 rebuilt; 1 the rebuild missed events (said on stderr) or the store\n"
        "cannot be used; 2 usage error (an unknown view).",
        "adapters.cli.views:rebuild_views",
    )  # fmt: skip
    again.add_argument("views", nargs="*", metavar="VIEW", type=arguments.name,
                       help=f"any of: {', '.join(VIEWS)} (default: every view)")  # fmt: skip
    again.add_argument("--all", action="store_true", help="every view")

    digest = verbs.add(
        "digest", "the views' digests, row for row",
        "prints one line, per view:\n"
        '  {"VIEW": {"rows": N, "digest": "…", "position": N}, …}\n'
        "two stores whose views hold the same rows print the same digests.\n\n"
        + _CAUGHT_UP + "\n\n" + _STORE_EXIT,
        "adapters.cli.views:print_digests",
    )  # fmt: skip
    digest.add_argument("views", nargs="*", metavar="VIEW", type=arguments.name,
                        help=f"any of: {', '.join(VIEWS)} (default: every view)")  # fmt: skip

    keep = verbs.add(
        "project", "keep views caught up with the log (a worker: several may run at once)",
        "prints one line per catch-up that moved a view:\n"
        '  {"views": ["VIEW", …], "events": N, "position": N}\n'
        "(events: log events read; position: the log position every view named has reached)\n"
        "a store error under --follow is said on stderr and tried again; the first catch-up\n"
        "shows a progress bar on a terminal.\n\n" + _STORE_EXIT + " 130 when --follow is stopped.",
        "adapters.cli.project:project_command",
        description="Any number of copies may run at once, on any host: each view applies an\n"
        "event once, whoever reads it. With --follow, a PostgreSQL store wakes it within\n"
        "milliseconds of a commit; a SQLite store is polled every second.",
    )  # fmt: skip
    keep.add_argument("views", nargs="*", metavar="VIEW", type=arguments.name,
                      help=f"any of: {', '.join(VIEWS)} (default: every view)")  # fmt: skip
    keep.add_argument("--follow", action="store_true",
                      help="keep the views caught up until stopped (SIGINT, SIGTERM)")  # fmt: skip


def _delivery(verbs: Verbs) -> None:
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument(
        "--config", metavar="PATH", type=arguments.path,
        help="settings file (default: $ENGAGE_CONFIG, else engage.toml next to the store)",
    )  # fmt: skip
    report = (
        '  {"destination", "delivered", "batches", "parked", "dead_letters", "position",\n'
        '   "pending", "stopped": null|"outage"|"misconfigured", "relocated_from", "rebuilt",\n'
        "   …what the destination describes of itself}\n"
    )

    run = verbs.add(
        "deliver", "send the outbox's events to the destinations",
        "prints one line per destination run (with --follow, per run that did something):\n"
        + report + "a stop, parked events and events still pending are said on stderr.\n\n"
        + _CAUGHT_UP + "\n\n"
        "exit codes: 0 done (a destination down is not a failure: its events wait); 1 a\n"
        "destination refused its settings, or the store cannot be used; 2 usage error;\n"
        "130 when --follow is stopped.",
        "adapters.cli.destinations:deliver_command", (config,),
    )  # fmt: skip
    run.add_argument("--destination", metavar="NAME", type=arguments.name,
                     help="only this destination (default: every one configured)")  # fmt: skip
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="deliver what is pending, exit (default)")
    mode.add_argument("--follow", action="store_true", help="keep delivering new events")

    again = verbs.add(
        "replay", "send history again to one destination (backfill)",
        "prints one line:\n"
        + report.replace('"pending",', '"from",') + '  with "not_replayed": N and "resume_from": '
        "POSITION|null in place of pending.\n\n"
        "exit codes: 0 replayed; 1 the destination stopped part-way (resume with --from\n"
        "resume_from), or the outbox was rebuilt meanwhile; 2 usage error.",
        "adapters.cli.destinations:replay_command", (config,),
    )  # fmt: skip
    again.add_argument("--destination", metavar="NAME", type=arguments.name, required=True,
                       help="the destination to send to")  # fmt: skip
    again.add_argument(
        "--from", dest="start", metavar="POSITION|ISO-8601", required=True,
        type=arguments.position_or_time,
        help="an outbox position (that one and later) or a time (events at or after it)",
    )  # fmt: skip
    _dead_letter_verbs(verbs, config)


def _dead_letter_verbs(verbs: Verbs, config: argparse.ArgumentParser) -> None:
    """`dead-letters list` and `dead-letters redrive`."""
    letters = verbs.add(
        "dead-letters", "events parked after failed deliveries",
        "exit codes: as each VERB's --help says.",
    )  # fmt: skip
    parked = verbs.nested(letters)
    listing = parked.add(
        "list", "the parked batches, with their reasons",
        "prints one line per dead letter (positions and messageIds, never the bodies):\n"
        '  {"id", "destination", "source", "events", "first_position", "last_position",\n'
        '   "message_ids": […], "reason", "attempts", "parked_at", "last_attempt_at",\n'
        '   "redriven_at", …}\n\n' + _STORE_EXIT,
        "adapters.cli.destinations:list_command",
    )  # fmt: skip
    listing.add_argument("--destination", metavar="NAME", type=arguments.name,
                         help="only this destination's")  # fmt: skip
    listing.add_argument("--all", action="store_true", help="redriven ones too")
    drive = parked.add(
        "redrive", "send parked batches again",
        "prints one line:\n"
        '  {"redriven": N, "events": N, "still_parked": [ID, …]}\n\n'
        "exit codes: 0 every one redriven; 1 some still parked, or none of the named ones\n"
        "exist; 2 usage error.",
        "adapters.cli.destinations:redrive_command", (config,),
    )  # fmt: skip
    drive.add_argument("ids", nargs="*", type=arguments.positive, metavar="ID",
                       help="dead letters to send again (default: every one parked)")  # fmt: skip
    drive.add_argument("--destination", metavar="NAME", type=arguments.name,
                       help="only this destination's")  # fmt: skip
