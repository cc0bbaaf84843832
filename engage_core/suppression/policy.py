"""Suppression policies: which message facts make an address or number unsendable, as one
versioned pure function (`derive`).

A suppression protects the sender: mail to an address that does not exist, or texts to a
number no carrier can reach, cost money and reputation whatever the person's consent. So it is
a state of its own beside consent, and `can_send` refuses a suppressed contact for marketing
and transactional sends alike.

`derive` is a function of the SET of facts, the set of lifts and the policy: never of the
order facts arrived in, so a late report and a replay end in the same answer, and running a
new version of a policy over the whole history (`rederive`) gives what a store fed the same
facts under that version would hold. Only facts after the newest lift count: an operator's
lift says "this contact is good as of now".

The rules (each a setting of `SuppressionPolicy`):
- a hard bounce suppresses;
- a drop whose reason is in `dropped_reasons` (SendGrid's "Bounced Address" and "Invalid")
  suppresses; drops for consent ("Unsubscribed Address", "Spam Reporting Address") are
  consent's business, drops for content or headers ("Spam Content", "Invalid SMTPAPI
  header": reasons are matched whole, never by prefix) are no fault of the address;
- `soft_bounce_limit` soft bounces within `soft_bounce_window` suppress;
- a spam report suppresses (`spam_report_suppresses`);
- `carrier_repeats` failures under a code in `carrier_codes` within `carrier_window`
  suppress (one 30003 may be a phone switched off; the same again is a pattern).
When several rules hold, the one that held first names the suppression.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from engage_core.suppression.facts import FactKind, SuppressionFact

__all__ = ["DEFAULT_CARRIER_CODES", "Lift", "Suppression", "SuppressionPolicy", "derive"]

DEFAULT_CARRIER_CODES = frozenset({"30003", "30005", "30006"})
DEFAULT_DROPPED_REASONS = frozenset({"bounced address", "invalid"})


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be a whole number of at least 1 (got {value!r})")


def _window(_: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValueError(f"{attribute.name} must be a positive duration (got {value!r})")


def _codes(values: Iterable[str]) -> frozenset[str]:
    return frozenset(str(value).strip() for value in values)


def _reasons(values: Iterable[str]) -> frozenset[str]:
    return frozenset(str(value).strip().casefold() for value in values)


@attrs.frozen
class SuppressionPolicy:
    """One version of the suppression rules. The version is what a suppression records as
    its provenance (`policy@v1`): change it whenever a setting changes, and re-derive."""

    version: int = attrs.field(default=1, validator=_positive)
    soft_bounce_limit: int = attrs.field(default=3, validator=_positive)
    soft_bounce_window: timedelta = attrs.field(default=timedelta(days=7), validator=_window)
    carrier_codes: frozenset[str] = attrs.field(default=DEFAULT_CARRIER_CODES, converter=_codes)
    carrier_repeats: int = attrs.field(default=2, validator=_positive)
    carrier_window: timedelta = attrs.field(default=timedelta(days=30), validator=_window)
    spam_report_suppresses: bool = True
    dropped_reasons: frozenset[str] = attrs.field(
        default=DEFAULT_DROPPED_REASONS, converter=_reasons
    )

    @property
    def tag(self) -> str:
        """The provenance a suppression made under this policy records."""
        return f"policy@v{self.version}"


@attrs.frozen
class Lift:
    """An operator's lift: facts up to `at` no longer count."""

    at: datetime
    operator: str
    reason: str


@attrs.frozen
class Suppression:
    """A contact is suppressed: by which rule, why (in words), since when (the fact that made
    the rule hold), under which policy, and the ids of the reports that made it."""

    rule: FactKind
    reason: str
    since: datetime
    policy: str
    evidence: tuple[str, ...]

    def describe(self) -> str:
        """One line for a refusal: `suppressed by policy@v1: hard bounce (since …)`."""
        return f"suppressed by {self.policy}: {self.reason} (since {self.since.isoformat()})"


def derive(
    policy: SuppressionPolicy, facts: Iterable[SuppressionFact], lifts: Iterable[Lift] = ()
) -> Suppression | None:
    """The suppression the facts make under `policy`, or None: a function of the sets of
    facts and lifts (their order, and a fact given twice, change nothing)."""
    newest = max((lift.at for lift in lifts), default=None)
    unique = {fact.key: fact for fact in sorted(facts, key=lambda fact: fact.order)}
    counted = [f for f in sorted(unique.values(), key=lambda fact: fact.order)
               if newest is None or f.occurred_at > newest]  # fmt: skip
    soft = (policy.soft_bounce_limit, policy.soft_bounce_window, None)
    carrier = (policy.carrier_repeats, policy.carrier_window, policy.carrier_codes)
    found = [
        held
        for held in (
            _first(policy, counted, FactKind.HARD_BOUNCE, "hard bounce"),
            _dropped(policy, counted),
            _spam(policy, counted),
            _repeated(policy, counted, FactKind.SOFT_BOUNCE, *soft),
            _repeated(policy, counted, FactKind.CARRIER_ERROR, *carrier),
        )
        if held is not None
    ]
    return min(found, key=lambda held: (held.since, _RULES.index(held.rule)), default=None)


_RULES = (
    FactKind.HARD_BOUNCE,
    FactKind.DROPPED,
    FactKind.SPAM_REPORT,
    FactKind.SOFT_BOUNCE,
    FactKind.CARRIER_ERROR,
)


def _made(
    policy: SuppressionPolicy, rule: FactKind, reason: str, facts: Sequence[SuppressionFact]
) -> Suppression:
    return Suppression(rule, reason, facts[-1].occurred_at, policy.tag,
                       tuple(fact.event_id for fact in facts))  # fmt: skip


def _first(
    policy: SuppressionPolicy, facts: Sequence[SuppressionFact], kind: FactKind, reason: str
) -> Suppression | None:
    found = next((fact for fact in facts if fact.kind is kind), None)
    return None if found is None else _made(policy, kind, reason, [found])


def _dropped(policy: SuppressionPolicy, facts: Sequence[SuppressionFact]) -> Suppression | None:
    for fact in facts:
        reason = (fact.code or "").strip().casefold()
        if fact.kind is FactKind.DROPPED and reason in policy.dropped_reasons:
            return _made(policy, FactKind.DROPPED, f"dropped: {fact.code}", [fact])
    return None


def _spam(policy: SuppressionPolicy, facts: Sequence[SuppressionFact]) -> Suppression | None:
    if not policy.spam_report_suppresses:
        return None
    return _first(policy, facts, FactKind.SPAM_REPORT, "spam report")


def _repeated(
    policy: SuppressionPolicy,
    facts: Sequence[SuppressionFact],
    kind: FactKind,
    limit: int,
    window: timedelta,
    codes: frozenset[str] | None,
) -> Suppression | None:
    """`limit` facts of `kind` (under one of `codes`, when given) within `window`: the first
    run of them to end (facts are in time order, so the first run found ends first)."""
    chosen = [f for f in facts if f.kind is kind and (codes is None or f.code in codes)]
    for start in range(len(chosen) - limit + 1):
        run = chosen[start : start + limit]
        if run[-1].occurred_at - run[0].occurred_at <= window:
            return _made(policy, kind, _repeated_reason(kind, run, window), run)
    return None


def _repeated_reason(kind: FactKind, run: Sequence[SuppressionFact], window: timedelta) -> str:
    within = f"within {duration_text(window)}"
    if kind is FactKind.SOFT_BOUNCE:
        return f"{len(run)} soft bounces {within}" if len(run) > 1 else "a soft bounce"
    codes = ", ".join(sorted({fact.code or "" for fact in run}))
    if len(run) == 1:
        return f"carrier error {codes}"
    return f"{len(run)} carrier errors ({codes}) {within}"


def duration_text(window: timedelta) -> str:
    """A duration as people write it: `7 days`, `12 hours`, `90 minutes`, `45 seconds`."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{window.total_seconds():g} seconds"
