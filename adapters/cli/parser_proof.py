"""`engage proof`'s arguments and help: a contact's consent proof (handler `adapters.cli.proof`)."""

from __future__ import annotations

from adapters.cli import arguments
from adapters.cli.verbs import Verbs


def add_parsers(verbs: Verbs) -> None:
    """Register `proof`."""
    verb = verbs.add(
        "proof", "export a contact's consent proof (history, provenance, evidence, digest)",
        "prints one line with --format json (the default), the proof as one JSON object\n"
        '  {"format", "channel", "key", "key_sha256", "as_of", "state", "groups",\n'
        '   "user_ids", "history": [{group, requested, source, source_id, effective_at,\n'
        '   recorded_at, evidence, outcome, before, after, …}], "digest", "generated_at"}\n'
        "where digest is SHA-256 of the canonical JSON without digest and generated_at;\n"
        "(with --format html, a self-contained page laid out for print instead: save it\n"
        "as PDF).\n\n"
        "exit codes: 0 exported (an unknown contact has an empty history); 1 the store\n"
        "cannot be read, or html without the `server` extra; 2 usage error.",
        "adapters.cli.proof:proof",
    )  # fmt: skip
    arguments.contact_arguments(verb)
    verb.add_argument(
        "--as-of", metavar="ISO-8601", type=arguments.timestamp,
        help="the history and states as they stood at that time",
    )  # fmt: skip
    verb.add_argument(
        "--format", choices=("json", "html"), default="json",
        help="json (default) or html, a print-ready page",
    )  # fmt: skip
