"""The contract every provider adapter keeps, as a base class each provider's test subclasses
(`test_providers_conform.py`), in the style of eventsourcing's recorder test cases.

A provider supplies its registry name, the variable its secret comes from, the headers its
signature rides in, whether it signs the URL and a time, its documented payloads, and how to
sign a body as the provider does (with the provider's own library where it has one). The
contract then holds, on a real SQLite store:

- a validly signed documented payload is accepted, and every element of it lands or is held;
- every tampering is refused whole (`SignatureRefused`) and held, unapplied: a changed byte of
  the body, another URL (where the URL is signed), a missing, empty or garbled signature
  header, a stale or future timestamp (where a time is signed), another secret, no secret;
- arbitrary bytes, signed or not, are only ever refused or quarantined, never raised on;
- whatever the provider could send (a documented payload mutated, then signed), the counts
  add up (received = applied + unchanged + duplicates + late + conflicts + partial + rejected
  + quarantined) and whatever did not land is held in quarantine with its reasons;
- the same request again applies nothing and publishes nothing: the outbox is unchanged, and
  the log only gains the records that say a repeat came (`DuplicateIgnored`, a hold seen
  again), which the design keeps so that nothing vanishes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from adapters.providers import InboundRequest, ProviderAdapter, SignatureRefused
from adapters.providers.ingest import IngestReport, ingest
from adapters.providers.registry import adapter_for
from engage_core import EngageApplication
from tests.conftest import FIXED_TIME
from tests.contracts.stores import ContractStore

NOW = FIXED_TIME
# A quarter of the profile's examples (25 by default, 750 with HYPOTHESIS_PROFILE=slow): the
# contract runs for every provider, and most examples go through a SQLite file.
EXAMPLES = max(10, settings().max_examples // 4)
# Each provider's subclass runs the same inherited property (a different executor each, by
# design); an example saved by one provider and replayed for another is still valid input.
contract_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
# What the log may gain when a request comes again: the records that a repeat came.
REPEAT_TOPICS = frozenset(
    {
        "engage.message.DuplicateIgnored",
        "engage.quarantine.RequestHeldAgain",
        "engage.consent.ChannelUpdateDuplicated",
        "engage.consent.GroupUpdateDuplicated",
    }
)


def assert_accounted(app: EngageApplication, report: IngestReport) -> None:
    """Every element counted once, and what did not land held: a refused request whole (with
    its reason), a batch's bad elements with one problem each."""
    counts = report.counts
    assert counts.adds_up, counts
    if counts.rejected:
        assert (counts.received, counts.rejected, counts.applied) == (1, 1, 0), counts
        assert report.refused is not None
    if counts.rejected or counts.quarantined:
        assert_held(app, report)
    else:
        assert report.held is None, report


def assert_held(app: EngageApplication, report: IngestReport) -> None:
    """The quarantine entry the report names keeps what did not land: the whole request
    when it was refused, else one problem per quarantined element."""
    counts = report.counts
    entry = app.held_entry(report.held) if report.held is not None else None
    assert entry is not None, report
    assert not entry.released
    assert entry.refused == bool(counts.rejected)
    if counts.quarantined:
        assert len(entry.problems) == counts.quarantined


def landed(report: IngestReport) -> int:
    """Elements recorded on their message (applied, or seen and kept as such)."""
    counts = report.counts
    return counts.applied + counts.duplicates + counts.late + counts.conflicts


@st.composite
def changed_byte(draw: st.DrawFn, body: bytes) -> bytes:
    """`body` with one byte changed to another value."""
    assume(body)
    index = draw(st.integers(0, len(body) - 1))
    new = draw(st.integers(0, 255).filter(lambda value: value != body[index]))
    return body[:index] + bytes([new]) + body[index + 1 :]


class ProviderAdapterContract(ABC):
    """Subclass with the provider's hooks; pytest collects the subclass (named `Test…`)."""

    provider: ClassVar[str]  # the registry's name (`adapter_for`)
    secret_variable: ClassVar[str]  # where `from_environment` reads the secret
    signature_headers: ClassVar[tuple[str, ...]]  # every header the signature needs
    signs_url: ClassVar[bool]
    signs_time: ClassVar[bool]
    url: ClassVar[str] = "https://engage.example.com/webhooks/provider?tenant=7"
    other_url: ClassVar[str] = "https://engage.example.com/webhooks/other?tenant=7"

    # Hooks

    @abstractmethod
    def environ(self) -> dict[str, str]:
        """The environment that configures the adapter's secret."""

    @abstractmethod
    def bodies(self) -> Sequence[bytes]:
        """The provider's documented payloads (the bytes as posted)."""

    @abstractmethod
    def signed(
        self, body: bytes, *, url: str | None = None, at: datetime = NOW, other_secret: bool = False
    ) -> InboundRequest:
        """A request as the provider posts `body` to `url` (default: `self.url`), signed at
        `at` with the configured secret (or another one)."""

    @abstractmethod
    def mutations(self, body: bytes) -> st.SearchStrategy[bytes]:
        """Bodies the provider could send instead of `body` (fields changed, added, dropped):
        signed, they go past verification into parsing and the core."""

    def same_signed_content(self, body: bytes, other: bytes) -> bool:
        """Whether the signature covers `other` as it covers `body` (for a form body, the
        decoded parameters are signed, not the bytes)."""
        return body == other

    # Shared pieces

    def adapter(self, environ: dict[str, str] | None = None) -> ProviderAdapter:
        return adapter_for(self.provider, self.environ() if environ is None else environ)

    def ingested(
        self, store: ContractStore, request: InboundRequest, adapter: ProviderAdapter | None = None
    ) -> IngestReport:
        report = ingest(store.app, adapter or self.adapter(), request, now=NOW)
        assert_accounted(store.app, report)
        return report

    def a_changed_byte(self, body: bytes) -> bytes:
        """`body` with one byte of its second half changed so that what is signed changes."""
        for index in range(len(body) // 2, len(body)):
            new = b"1" if body[index : index + 1] == b"0" else b"0"
            changed = body[:index] + new + body[index + 1 :]
            if not self.same_signed_content(body, changed):
                return changed
        raise AssertionError(f"no byte of {body!r} changes what is signed")

    def tamperings(self, body: bytes) -> Iterator[tuple[str, InboundRequest]]:
        """Every way the request for `body` may have been tampered with, named."""
        request = self.signed(body)
        changed = self.a_changed_byte(body)
        yield "a changed byte of the body", attrs.evolve(request, body=changed)
        if self.signs_url:
            yield "another URL", attrs.evolve(request, url=self.other_url)
        for name in self.signature_headers:
            others = {k: v for k, v in request.headers.items() if k.lower() != name.lower()}
            yield f"no {name}", attrs.evolve(request, headers=others)
            yield f"an empty {name}", attrs.evolve(request, headers={**others, name: ""})
            yield f"a garbled {name}", attrs.evolve(request, headers={**others, name: "x" * 44})
        if self.signs_time:
            yield "a stale timestamp", self.signed(body, at=NOW - timedelta(hours=1))
            yield "a future timestamp", self.signed(body, at=NOW + timedelta(hours=1))
        yield "another secret", self.signed(body, other_secret=True)

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ContractStore]:
        kept = ContractStore(tmp_path)
        yield kept
        kept.close()

    # The contract

    def test_documented_payloads_validly_signed_are_accepted(self, store: ContractStore) -> None:
        assert self.bodies()
        for body in self.bodies():
            request = self.signed(body)
            self.adapter().verify(request, now=NOW)
            report = self.ingested(store, request)
            assert report.refused is None, (body, report)
            assert report.received == landed(report) + report.quarantined

    def test_every_tampering_is_refused_whole_and_held(self, store: ContractStore) -> None:
        for body in self.bodies():
            for what, request in self.tamperings(body):
                with pytest.raises(SignatureRefused):
                    self.adapter().verify(request, now=NOW)
                report = self.ingested(store, request)
                assert isinstance(report.refused, SignatureRefused), what
                entry = store.app.held_entry(report.held) if report.held else None
                assert entry is not None
                assert entry.unauthenticated, what
        # held, and nothing else: no message was touched, nothing published
        assert set(store.topics_after(0)) == {
            "engage.quarantine.RequestQuarantined", "engage.quarantine.RequestHeldAgain",
        }  # fmt: skip
        assert store.published() == []

    @contract_settings
    @given(data=st.data())
    def test_a_changed_byte_anywhere_in_the_body_is_refused(self, data: st.DataObject) -> None:
        body = data.draw(st.sampled_from(self.bodies()))
        request = self.signed(body)
        tampered = data.draw(changed_byte(body))
        assume(not self.same_signed_content(body, tampered))
        with pytest.raises(SignatureRefused):
            self.adapter().verify(attrs.evolve(request, body=tampered), now=NOW)

    def test_the_url_is_signed_exactly_where_the_provider_signs_it(self) -> None:
        for body in self.bodies():
            moved = attrs.evolve(self.signed(body), url=self.other_url)
            if self.signs_url:
                with pytest.raises(SignatureRefused):
                    self.adapter().verify(moved, now=NOW)
            else:  # the body alone is signed: a proxy's rewrite of the URL changes nothing
                self.adapter().verify(moved, now=NOW)

    def test_a_replay_long_after_is_refused_exactly_where_a_time_is_signed(self) -> None:
        later = NOW + timedelta(days=30)
        for body in self.bodies():
            request = self.signed(body)
            if self.signs_time:
                with pytest.raises(SignatureRefused):
                    self.adapter().verify(request, now=later)
            else:  # nothing to bound it by: the dedup keys catch a replay (see below)
                self.adapter().verify(request, now=later)

    def test_without_a_secret_everything_is_refused_naming_the_variable(
        self, store: ContractStore
    ) -> None:
        for environ in ({}, {self.secret_variable: ""}):
            unconfigured = self.adapter(environ)
            for body in self.bodies():
                request = self.signed(body)
                with pytest.raises(SignatureRefused, match=self.secret_variable):
                    unconfigured.verify(request, now=NOW)
                report = self.ingested(store, request, unconfigured)
                assert isinstance(report.refused, SignatureRefused)
        assert store.published() == []

    def test_arbitrary_bytes_are_refused_or_quarantined_never_raised(
        self, store: ContractStore
    ) -> None:
        @contract_settings
        @given(body=st.binary(max_size=400), sign=st.booleans())
        def example(body: bytes, sign: bool) -> None:
            unsigned = InboundRequest(body, url=self.url, received_at=NOW)
            report = self.ingested(store, self.signed(body) if sign else unsigned)
            assert landed(report) == 0, report

        example()
        assert store.published() == []

    def test_whatever_the_provider_could_send_adds_up_and_the_rest_is_held(
        self, store: ContractStore
    ) -> None:
        @contract_settings
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            body = data.draw(self.mutations(data.draw(st.sampled_from(self.bodies()))))
            report = self.ingested(store, self.signed(body))
            assert not isinstance(report.refused, SignatureRefused), report  # signed: verifies

        example()

    def test_the_same_request_again_applies_and_publishes_nothing_new(
        self, store: ContractStore
    ) -> None:
        for body in self.bodies():
            request = self.signed(body)
            first = self.ingested(store, request)
            published, held = store.published(), sorted(e.id for e in store.app.held())
            position = store.position()
            again = self.ingested(store, request)
            assert (again.received, again.applied) == (first.received, 0), again
            assert again.duplicates == landed(first), (first, again)
            assert (again.quarantined, again.held) == (first.quarantined, first.held)
            assert store.published() == published  # nothing new goes out
            assert sorted(e.id for e in store.app.held()) == held
            assert set(store.topics_after(position)) <= REPEAT_TOPICS
