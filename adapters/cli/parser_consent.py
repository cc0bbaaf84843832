"""The consent verbs' arguments and help: `subscriptions import|set|identify`, `subscription`,
`can-send` (handlers in `adapters.cli.commands`, `adapters.cli.consent` and
`adapters.cli.consent_changes`)."""

from __future__ import annotations

from adapters.cli import arguments
from adapters.cli.verbs import Verbs

_COUNTS_EXIT = (
    "exit codes: 0 done; 1 every {what} failed, or the input could not be read or is over a\n"
    "limit (nothing applied); 2 usage error."
)


def add_parsers(verbs: Verbs) -> None:
    """Register the consent verbs."""
    subscriptions = verbs.add(
        "subscriptions", "change consent in bulk",
        "exit codes: as each VERB's --help says.",
    )  # fmt: skip
    bulk = verbs.nested(subscriptions)
    csv_import = bulk.add(
        "import", "apply a Segment subscription CSV, rows in order",
        "prints one line of row counts (Engage's one counts vocabulary), which add up to\n"
        "`received`:\n"
        '  {"received": N, "applied": N, "unchanged": N, "duplicates": N, "late": N,\n'
        '   "conflicts": N, "partial": N, "rejected": N, "quarantined": N}\n'
        "each rejected row is named on stderr (row number, error code, message).\n\n"
        + _COUNTS_EXIT.format(what="row") + "\n"
        "A bad header applies nothing (exit 1); a stop part-way prints the counts so far.",
        "adapters.cli.commands:import_subscriptions",
    )  # fmt: skip
    csv_import.add_argument("file", metavar="FILE.csv", type=arguments.path,
                            help="the CSV (Segment's subscription upload format)")  # fmt: skip
    csv_import.add_argument(
        "--errors", metavar="ERRORS.csv", type=arguments.path,
        help="write failed rows here, fixable and re-uploadable",
    )  # fmt: skip
    _api_verbs(bulk)
    _query_verbs(verbs)


def _api_verbs(bulk: Verbs) -> None:
    """`subscriptions set` and `subscriptions identify`: the API's and Segment's shapes."""
    setter = bulk.add(
        "set", 'apply {"subscriptions": [{key, type, status?, groups?}]} (Public API shape)',
        "prints one line, the API's answer:\n"
        '  {"successes": [{…item, "outcome": …}], "failures": [{…item, "errors": [{code,\n'
        "   message}]}]}\n\n" + _COUNTS_EXIT.format(what="item"),
        "adapters.cli.consent_changes:set_subscriptions",
    )  # fmt: skip
    setter.add_argument("file", metavar="FILE.json|-", type=arguments.path,
                        help="the request body, or - for stdin")  # fmt: skip
    setter.add_argument(
        "--request-id", type=arguments.name,
        help="an idempotency key: the same id again changes nothing (provenance)",
    )  # fmt: skip

    identify_call = bulk.add(
        "identify", "apply Segment identify calls' context.messaging_subscriptions",
        "prints one line of counts:\n"
        '  {"calls": N, "received": N, "applied": N, "unchanged": N, "duplicates": N,\n'
        '   "late": N, "conflicts": N, "partial": N, "rejected": N, "quarantined": N,\n'
        '   "clamped": N}\n'
        "where `received` counts items; each rejected item is named on stderr.\n\n"
        + _COUNTS_EXIT.format(what="item"),
        "adapters.cli.consent_changes:identify",
    )  # fmt: skip
    identify_call.add_argument(
        "file", metavar="FILE.json|-", type=arguments.path,
        help="one call, or JSON Lines of them; - for stdin",
    )  # fmt: skip


def _query_verbs(verbs: Verbs) -> None:
    """`subscription` and `can-send`: what holds for one contact."""
    query = verbs.add(
        "subscription", "a contact's subscription state, groups, history",
        "prints one line:\n"
        '  {"channel", "key", "status": "SUBSCRIBED"|…|null, "groups": {name: status},\n'
        '   "locked_by_user", "user_ids": […], "history": [{status, previous_status,\n'
        "   outcome, source, source_id, effective_at, recorded_at, …}] (with --history)}\n\n"
        "exit codes: 0 answered (an unknown contact is answered, status null); 1 the store\n"
        "cannot be read; 2 usage error (a bad channel, key or group).",
        "adapters.cli.consent:subscription",
    )  # fmt: skip
    arguments.contact_arguments(query)
    query.add_argument(
        "--group", action="append", metavar="NAME", type=arguments.group_name,
        help="a subscription group to show (repeatable; email only)",
    )  # fmt: skip
    query.add_argument(
        "--as-of", metavar="ISO-8601", type=arguments.timestamp,
        help="answer as it stood at that time",
    )  # fmt: skip
    query.add_argument("--history", action="store_true", help="every update with its provenance")

    check = verbs.add(
        "can-send", "may a message go to this contact?",
        "prints one line:\n"
        '  {"allowed": true|false, "reason": "…"}\n'
        "a refusal is an answer, not a failure: exit 0 either way.\n\n"
        "exit codes: 0 answered; 1 the store cannot be read; 2 usage error.",
        "adapters.cli.consent:can_send_to",
    )  # fmt: skip
    arguments.contact_arguments(check)
    check.add_argument("--group", metavar="NAME", type=arguments.group_name,
                       help="the subscription group the message is for (email only)")  # fmt: skip
    check.add_argument(
        "--transactional", action="store_true",
        help="a transactional message (the rules differ: docs/consent.md)",
    )  # fmt: skip
