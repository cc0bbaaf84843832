"""`EngageModel`: a Hypothesis state machine that drives a real `EngageApplication` with sends,
provider reports, repeats, opt-outs and opt-ins, and checks it step by step against a model
small enough to read in one sitting.

The model is deliberately independent of the engine: it walks the lifecycle's declared edges
itself (not the compiled reachability the engine decides with), keeps a message's status as
"the highest-precedence status reported", and replays each contact's consent in effective-time
order with the rules of `docs/consent.md` written out again. Subclass it to check your own code
against it: add rules that call your service and invariants that compare what your service did
with `expected_status` and `expected_permission`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from engage_core.application import EngageApplication
from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.lifecycles import LIFECYCLES
from engage_core.observations import Observation, ProviderFacts, Send
from engage_core.testing.strategies import EPOCH, contacts, sends

__all__ = ["EngageModel"]

# The application's clock: after every time the rules draw, so no clock-skew policy clamps.
MODEL_NOW = EPOCH + timedelta(days=30)
# Equal effective times replay operators first and the user's own action last (docs/consent.md).
_TIE = {SourceKind.API: 0, SourceKind.POLICY: 1, SourceKind.PROVIDER: 2, SourceKind.KEYWORD: 3}
_UNSUB, _SUB = SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.SUBSCRIBED
_STOPS = ("STOP", "stop", " Stop ", "UNSUBSCRIBE", "quit")
_STARTS = ("START", "start", " Yes ", "UNSTOP")


def _reachable(channel: Channel) -> dict[str, set[str]]:
    """Every status reachable from each, walked from the declared edges (not the engine's
    compiled reachability, which a broken engine might get wrong)."""
    edges = LIFECYCLES[channel].edges
    reach: dict[str, set[str]] = {}
    for status in LIFECYCLES[channel].statuses:
        seen: set[str] = set()
        todo = [d for s, d in edges if s == status]
        while todo:
            here = todo.pop()
            if here not in seen:
                seen.add(here)
                todo += [d for s, d in edges if s == here]
        reach[status] = seen
    return reach


_REACH = {channel: _reachable(channel) for channel in Channel}


@attrs.define
class _Message:
    """What the model expects of one message."""

    channel: Channel
    status: str | None = None
    seen: set[str] = attrs.Factory(set)  # dedup keys
    reported: set[str] = attrs.Factory(set)  # statuses a provider reported
    engagement: Counter[str] = attrs.Factory(Counter)

    def outcome(self, target: str, *, first_initial: bool = False) -> str:
        """What a report of `target` does; moves the status on."""
        table, current = LIFECYCLES[self.channel], self.status
        if current is None or target in _REACH[self.channel][current]:
            self.status = target
            return "applied"
        if target == current or current in _REACH[self.channel][target]:
            return "applied" if first_initial and target == table.initial else "late"
        self.status = target if table.rank[target] > table.rank[current] else current
        return "conflicts"

    def take(self, item: Observation | Send) -> str:
        """The count `item` lands in ("applied", "late", "conflicts", "duplicates")."""
        if self.seen.intersection(item.dedup_keys):
            return "duplicates"
        self.seen.update(item.dedup_keys)
        table = LIFECYCLES[self.channel]
        if isinstance(item, Send):
            return self.outcome(table.initial)
        if table.is_engagement(item.status):
            self.engagement[item.status] += 1
            assert table.engagement_implies is not None
            kind = self.outcome(table.engagement_implies)
            return "conflicts" if kind == "conflicts" else "applied"
        first = item.status not in self.reported and self.status == table.initial
        self.reported.add(item.status)
        return self.outcome(item.status, first_initial=first)


@attrs.frozen
class _Step:
    """One consent update as the model replays it."""

    at: Any
    kind: SourceKind
    source_id: str
    status: SubscriptionStatus
    lock: bool = False
    unlock: bool = False
    unlock_only: bool = False

    @property
    def order(self) -> tuple[Any, int, str]:
        return (self.at, _TIE[self.kind], self.source_id)


def _replay(steps: Iterable[_Step]) -> tuple[SubscriptionStatus | None, bool]:
    """A channel subscription's (status, locked by the user's STOP), from its updates."""
    status: SubscriptionStatus | None = None
    locked = False
    for step in sorted(steps, key=lambda s: s.order):
        if step.lock:
            status, locked = _UNSUB, True
        elif step.unlock:
            if not step.unlock_only or locked:
                status, locked = step.status, False
        elif not (locked and step.kind is SourceKind.API and step.status is not _UNSUB):
            status = step.status
    return status, locked


class EngageModel(RuleBasedStateMachine):
    """Drives an `EngageApplication` (`self.app`, from `make_application`) and checks every
    answer against an independent model. Rules: `send` (a send record, maybe with its first
    report), `report` (a provider's report of any status, mostly forward, in any order),
    `repeat` (an input again, maybe under a new event id), `opt_out` (a STOP, an unsubscribe
    link), `opt_in` (a START), `subscribe` (an operator's API update), `meet` (a new contact).
    Invariants: `messages_agree`, `consent_agrees`.

    Subclass it, add `@rule`s that call your code and `@invariant`s that compare what your
    code did with `expected_status(message_id)` and `expected_permission(contact)`; run it
    with `TestYours = Yours.TestCase`."""

    audience = Bundle("audience")
    messages = Bundle("messages")

    def __init__(self) -> None:
        super().__init__()
        self.app = self.make_application()
        self.inputs: list[Observation | Send] = []  # everything observed, for repeats
        self._messages: dict[UUID, _Message] = {}
        self._consent: dict[ContactKey, list[_Step]] = {}
        # contacts a hard bounce or a spam report suppressed (the default policy; no lifts here)
        self._suppressed: set[ContactKey] = set()
        self._ids = itertools.count()

    def make_application(self) -> EngageApplication:
        """The application under test: in memory, its clock fixed after every drawn time.
        Override to drive another store."""
        return EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                 clock=lambda: MODEL_NOW)  # fmt: skip

    def teardown(self) -> None:
        self.app.close()

    # What the model expects: for subclasses' invariants

    def expected_status(self, message_id: UUID) -> str | None:
        """The status the model expects the message to have (None: unknown to the model)."""
        found = self._messages.get(message_id)
        return found.status if found is not None else None

    def expected_permission(self, contact: ContactKey, *, transactional: bool = False) -> bool:
        """Whether the model says a message may go to `contact` now (`can_send`'s `allowed`)."""
        if contact in self._suppressed:
            return False
        status, locked = _replay(self._consent.get(contact, ()))
        if locked or status is _UNSUB:
            return False
        return transactional or status is _SUB

    def known_contacts(self) -> list[ContactKey]:
        """Every contact a rule has named so far, in a stable order."""
        return sorted(self._consent, key=lambda c: (c.channel.value, c.key))

    def known_messages(self) -> list[UUID]:
        """Every message a rule has touched so far."""
        return list(self._messages)

    # Driving the application

    def observe(self, *items: Observation | Send) -> None:
        """Apply `items` in one batch and check the counts against the model's."""
        expected = Counter(self._expect(item) for item in items)
        result = self.app.observe(items).as_dict()
        wanted = ("applied", "late", "conflicts", "duplicates")
        assert {k: result[k] for k in wanted} == {k: expected[k] for k in wanted}, (result, items)
        self.inputs.extend(items)

    def _expect(self, item: Observation | Send) -> str:
        message = self._messages.setdefault(item.message_id, _Message(item.channel))
        outcome = message.take(item)
        if outcome != "duplicates" and isinstance(item, Observation):
            self._expect_policy(item)
        return outcome

    def _expect_policy(self, report: Observation) -> None:
        """The consent change a report causes: an email unsubscribe or spam report, an inbound
        STOP or START."""
        facts = report.facts or ProviderFacts()
        self._expect_suppression(report, facts)
        if facts.contact is None or report.occurred_at is None or report.event_id is None:
            return
        contact = ContactKey.parse(report.channel, facts.contact)
        at, source = report.occurred_at, report.event_id
        steps = self._consent.setdefault(contact, [])
        if report.status == "unsubscribe":
            steps.append(_Step(at, SourceKind.PROVIDER, source, _UNSUB))
        elif report.status == "spamreport":
            steps.append(_Step(at, SourceKind.POLICY, source, _UNSUB))
        elif report.status == "received" and (facts.text or "").strip().upper() in _WORDS_STOP:
            steps.append(_Step(at, SourceKind.KEYWORD, source, _UNSUB, lock=True))
        elif report.status == "received" and (facts.text or "").strip().upper() in _WORDS_START:
            whatsapp = contact.channel is Channel.WHATSAPP
            steps.append(_Step(at, SourceKind.KEYWORD, source, _SUB, unlock=True,
                               unlock_only=whatsapp))  # fmt: skip

    def _expect_suppression(self, report: Observation, facts: ProviderFacts) -> None:
        """A hard bounce or a spam report suppresses its address, whatever the order
        (`engage_core.suppression`'s default policy)."""
        hard = report.status == "bounced" and (facts.bounce_type or "").lower() != "blocked"
        if report.channel is Channel.EMAIL and facts.contact and (
            hard or report.status == "spamreport"
        ):
            self._suppressed.add(ContactKey.parse(report.channel, facts.contact))

    def _time(self, data: st.DataObject) -> Any:
        return EPOCH + timedelta(minutes=data.draw(st.integers(0, 120), label="minute"))

    # Rules

    @rule(target=audience, contact=contacts())
    def meet(self, contact: ContactKey) -> ContactKey:
        self._consent.setdefault(contact, [])
        return contact

    @rule(target=messages, contact=audience, data=st.data())
    def send(self, contact: ContactKey, data: st.DataObject) -> Send:
        """A send record, and as often as not the provider's first report about it (which
        arrives seconds later): the edges out of a message's first status are exercised in
        every example that sends, not only in those whose rules happen to report on a message
        before another report has moved it on."""
        record = data.draw(sends(contact=contact), label="send")
        self.observe(record)
        if data.draw(st.booleans(), label="first report"):
            self._report(record, data)
        return record

    @rule(message=messages, data=st.data())
    def report(self, message: Send, data: st.DataObject) -> None:
        """A provider's report about a sent message."""
        self._report(message, data)

    def _report(self, message: Send, data: st.DataObject) -> None:
        table = LIFECYCLES[message.channel]
        current = self.expected_status(message.message_id) or table.initial
        # Mostly forward, as providers report: the machine's next step, or any status still
        # ahead (the reports between were lost); else any status at all. Reaching past the
        # next step matters: a message's later statuses (and the edges into them) are met
        # within a few reports, not only after a run of next steps the rules seldom draw.
        kinds = {
            "next": sorted(d for s, d in table.edges if s == current),
            "ahead": sorted(_REACH[message.channel][current]),
            "any": [*table.statuses, *sorted(table.engagement_names)],
        }
        way = data.draw(st.sampled_from(["next", "ahead", "any"]), label="way")
        status = data.draw(st.sampled_from(kinds[way] or kinds["any"]), label="status")
        n = next(self._ids)
        composite = data.draw(st.booleans(), label="composite key")
        email = message.channel is Channel.EMAIL
        self.observe(Observation(
            channel=message.channel, provider=message.provider,
            provider_message_id=message.provider_message_id, status=status,
            occurred_at=self._time(data), event_id=f"event-{n}",
            provider_keys=(f"composite-{n}",) if composite else (),
            facts=ProviderFacts(contact=message.to) if email else None,
        ))  # fmt: skip

    @precondition(lambda self: bool(self.inputs))
    @rule(data=st.data())
    def repeat(self, data: st.DataObject) -> None:
        """An input again, as a provider's retry: the same, or under a new event id with the
        same composite key (SendGrid's retries)."""
        item = data.draw(st.sampled_from(self.inputs), label="repeated")
        if isinstance(item, Observation) and item.provider_keys and data.draw(st.booleans()):
            item = attrs.evolve(item, event_id=f"retry-{next(self._ids)}")
        self.observe(item)

    def _inbound(self, contact: ContactKey, text: str, at: Any, status: str) -> Observation:
        n = next(self._ids)
        email = contact.channel is Channel.EMAIL
        return Observation(
            channel=contact.channel, provider="sendgrid" if email else "twilio",
            provider_message_id=f"user-action-{n}", status=status, occurred_at=at,
            event_id=f"event-{n}", facts=ProviderFacts(contact=contact.key, text=text or None),
        )  # fmt: skip

    @rule(contact=audience, data=st.data())
    def opt_out(self, contact: ContactKey, data: st.DataObject) -> None:
        """The user's own opt-out: a STOP typed to a phone channel, an unsubscribe link (or a
        spam report) on email."""
        if contact.channel is Channel.EMAIL:
            kind = data.draw(st.sampled_from(["unsubscribe", "spamreport"]), label="opt-out")
            self.observe(self._inbound(contact, "", self._time(data), kind))
        else:
            text = data.draw(st.sampled_from(_STOPS), label="typed")
            self.observe(self._inbound(contact, text, self._time(data), "received"))

    @precondition(lambda self: any(c.channel is not Channel.EMAIL for c in self._consent))
    @rule(data=st.data())
    def opt_in(self, data: st.DataObject) -> None:
        """The user's START on a phone channel."""
        phones = [c for c in self.known_contacts() if c.channel is not Channel.EMAIL]
        contact = data.draw(st.sampled_from(phones), label="contact")
        text = data.draw(st.sampled_from(_STARTS), label="typed")
        self.observe(self._inbound(contact, text, self._time(data), "received"))

    @rule(contact=audience, data=st.data())
    def subscribe(self, contact: ContactKey, data: st.DataObject) -> None:
        """An operator's API update: subscribed (or unsubscribed) as of a drawn time."""
        status = data.draw(st.sampled_from([_SUB, _SUB, _UNSUB]), label="status")
        at, source = self._time(data), f"api-{next(self._ids)}"
        self.app.change_consent(
            [ChannelChange(contact, Update(status, Provenance(SourceKind.API, source, at, at)))]
        )
        self._consent.setdefault(contact, []).append(_Step(at, SourceKind.API, source, status))

    # Invariants

    @invariant()
    def messages_agree(self) -> None:
        """Every message's status and engagement are the model's."""
        for message_id, expected in self._messages.items():
            found = self.app.message(message_id)
            assert found is not None, message_id
            assert found.status == expected.status, (found.history, expected)
            counts = {kind: tally.count for kind, tally in found.state.engagement.items()}
            assert counts == dict(expected.engagement), (counts, expected)

    @invariant()
    def consent_agrees(self) -> None:
        """Every contact's channel state, and whether a marketing or transactional message may
        go to it, are the model's."""
        for contact, steps in self._consent.items():
            subscription = self.app.channel_subscription(contact)
            state = subscription.current if subscription is not None else None
            found = (state.status, state.locked_by_user) if state is not None else (None, False)
            assert found == _replay(steps), (contact, found, steps)
            for transactional in (False, True):
                allowed = self.app.can_send(contact, transactional=transactional).allowed
                assert allowed == self.expected_permission(contact, transactional=transactional)


_WORDS_STOP = frozenset(word.strip().upper() for word in _STOPS)
_WORDS_START = frozenset(word.strip().upper() for word in _STARTS)
