"""`engage simulate`'s arguments and help: seeded provider traffic through the real adapters,
checked against its ground truth. Handler in `adapters.cli.simulate` (imported when it runs)."""

from __future__ import annotations

from adapters.cli import arguments
from adapters.cli.verbs import Verbs

MOST_MESSAGES = 1_000_000

_DESCRIPTION = """\
Generates raw provider requests as Twilio (SMS, WhatsApp), SendGrid and Meta send them, signed
with keys made from the seed, with the mess a profile asks for (duplicates, retries under new
ids, reordering, late reports, contradictions, STOP and START keywords, unsubscribes), plus a
consent CSV and identify calls; feeds them through the adapters and the core (--via direct) or
posts them to a running `engage serve` (--via http: the service must hold the simulation's
keys, see docs/simulation.md); then checks every message's status and engagement, every
contact's consent and the Segment events published against the ground truth. The same seed
and profile give byte-identical traffic. Profiles: default, hostile, or a TOML file's path."""


def add_parsers(verbs: Verbs) -> None:
    """Register `simulate`."""
    verb = verbs.add(
        "simulate", "drive simulated, signed provider traffic through Engage and check it",
        "prints the report as text; with --json it prints one line:\n"
        '  {"seed", "profile", "messages", "via", "inputs": {provider: N}, "outcomes": {…},\n'
        '   "status": {channel: {status: N}}, "funnel": {channel: {…}}, "consent_changes": N,\n'
        '   "ground_truth": {"messages_checked", "mismatches", "consent_checked",\n'
        '   "consent_mismatches", "events_checked", "event_mismatches", "first_mismatches"},\n'
        '   "out": DIR?}\n'
        "a progress bar on stderr when it is a terminal.\n\n"
        "exit codes: 0 the engine agrees with the ground truth; 1 a mismatch, the store or the\n"
        "service cannot be used; 2 usage error (an option, an unreadable profile).",
        "adapters.cli.simulate:simulate",
        description=_DESCRIPTION,
    )  # fmt: skip
    verb.add_argument("--messages", type=arguments.bounded(1, MOST_MESSAGES), default=1000,
                      metavar="N", help="outbound messages to simulate (default 1000)")  # fmt: skip
    verb.add_argument("--seed", type=arguments.bounded(0), default=0, metavar="S",
                      help="the seed: the same one gives the same traffic (default 0)")  # fmt: skip
    verb.add_argument("--profile", type=arguments.text, default="default", metavar="P",
                      help="default, hostile, or the path of a profile TOML file")  # fmt: skip
    verb.add_argument("--via", choices=("direct", "http"), default="direct",
                      help="direct: through the adapters in this process; http: posted to "
                      "--url (default direct)")  # fmt: skip
    verb.add_argument("--url", type=arguments.text, default=None,
                      help="a running `engage serve`'s base URL, for --via http (its API token "
                      "and write key from ENGAGE_API_TOKEN and ENGAGE_WRITE_KEY)")  # fmt: skip
    verb.add_argument("--out", type=arguments.path, default=None, metavar="DIR",
                      help="also write the traffic there as files `engage ingest` replays, "
                      "a script that replays them, and truth.json")  # fmt: skip
    verb.add_argument("--json", action="store_true", help="print the report as one JSON line")
