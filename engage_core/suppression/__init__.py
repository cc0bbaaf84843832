"""Suppression: contacts no message may go to, whatever their consent, because message facts
say the address or number does not take them (hard bounces, repeated soft bounces, drops for a
bounced or invalid address, spam reports, repeated permanent carrier errors).

The shape of `engage_core.consent`: what a report is as a fact (`facts`), the versioned rules
over facts as one pure function (`policy.derive`), the events, state and pure decisions of one
aggregate per contact vector, the environment settings (`settings`) and the queries. The
application applies it in the same transaction as the report (`application_suppression`).
"""

from engage_core.suppression.events import (
    SUPPRESSION_EVENT_CLASSES,
    Cause,
    SuppressionChanged,
    SuppressionEvent,
    SuppressionFactNoted,
    SuppressionLifted,
)
from engage_core.suppression.facts import FactKind, SuppressionFact, suppression_fact
from engage_core.suppression.policy import Lift, Suppression, SuppressionPolicy, derive
from engage_core.suppression.queries import SuppressionAnswer
from engage_core.suppression.settings import policy_from_environment

__all__ = [
    "SUPPRESSION_EVENT_CLASSES",
    "Cause",
    "FactKind",
    "Lift",
    "Suppression",
    "SuppressionAnswer",
    "SuppressionChanged",
    "SuppressionEvent",
    "SuppressionFact",
    "SuppressionFactNoted",
    "SuppressionLifted",
    "SuppressionPolicy",
    "derive",
    "policy_from_environment",
    "suppression_fact",
]
