"""`engage suppression` and `engage policies`: suppressions made by policies over message
facts, lifted by an operator, re-derived when a policy's version changes (handlers in
`adapters.cli.suppression`)."""

from __future__ import annotations

from adapters.cli import arguments
from adapters.cli.verbs import Verbs

_SUPPRESSION = (
    '{"channel", "key", "suppressed": true|false, "suppression": {"rule", "reason", "since",\n'
    '   "policy": "policy@vN", "evidence": [report ids]}|null, "policy", "facts": [{kind,\n'
    '   occurred_at, message_id, event_id, code}], "lifts": [{at, operator, reason}],\n'
    '   "history": [{recorded_at, cause, cause_id, policy, before, after}]}'
)
_SETTINGS = (
    "the policy is read from ENGAGE_SUPPRESSION_POLICY_VERSION, ENGAGE_SOFT_BOUNCE_LIMIT,\n"
    "ENGAGE_SOFT_BOUNCE_WINDOW_SECONDS, ENGAGE_CARRIER_ERROR_CODES,\n"
    "ENGAGE_CARRIER_ERROR_REPEATS, ENGAGE_CARRIER_ERROR_WINDOW_SECONDS and\n"
    "ENGAGE_SPAM_REPORT_SUPPRESSES (docs/consent.md)."
)


def add_parsers(verbs: Verbs) -> None:
    """Register `suppression` and `policies`."""
    suppression = verbs.add(
        "suppression", "a contact's suppression: show it, lift it",
        "exit codes: as each VERB's --help says.",
    )  # fmt: skip
    nested = verbs.nested(suppression)
    show = nested.add(
        "show", "whether a contact is suppressed, why, and from which facts",
        "prints one line:\n  " + _SUPPRESSION + "\n\n"
        "exit codes: 0 answered (a contact never suppressed is an answer, suppressed false);\n"
        "1 the store cannot be read; 2 usage error (a bad channel or key).",
        "adapters.cli.suppression:show",
    )  # fmt: skip
    arguments.contact_arguments(show)
    lift = nested.add(
        "lift", "lift a contact's suppression, with a reason",
        "the facts up to now no longer count; later ones may suppress the contact again. The\n"
        "lift is recorded even when the contact is not suppressed (it sets the facts before it\n"
        'aside). prints one line: {"lifted": the suppression lifted, or null, …as `show`}\n\n'
        "exit codes: 0 recorded; 1 the store cannot be read or written; 2 usage error (a bad\n"
        "channel or key, a blank or overlong --reason or --operator).",
        "adapters.cli.suppression:lift",
    )  # fmt: skip
    arguments.contact_arguments(lift)
    lift.add_argument("--reason", required=True, type=arguments.text,
                      help="why it is lifted (kept in the contact's history)")  # fmt: skip
    lift.add_argument(
        "--operator", type=arguments.text, default=None,
        help="who lifts it (default: $USER, else `cli`)",
    )  # fmt: skip

    policies = verbs.add(
        "policies", "the suppression policy: re-derive every contact under it",
        "exit codes: as each VERB's --help says.",
    )  # fmt: skip
    nested_policies = verbs.nested(policies)
    nested_policies.add(
        "rederive", "derive every contact's suppression again under the current policy",
        "records a corrective change wherever the answer under the policy differs from the\n"
        "one recorded; running it again records nothing. " + _SETTINGS + "\n\n"
        "prints one line:\n"
        '  {"policy": "policy@vN", "revisited": N, "changed": N, "suppressed": N,\n'
        '   "released": N, "restated": N}\n'
        "(`changed` = newly suppressed + released + restated under another reason or policy)\n\n"
        "exit codes: 0 done; 1 the store cannot be read or written; 2 usage error (a policy\n"
        "setting that cannot be used, named).",
        "adapters.cli.suppression:rederive",
    )  # fmt: skip
