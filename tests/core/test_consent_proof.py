"""Consent is provable: a contact's proof lists every update recorded for its channel and
groups, with provenance and evidence, ends in the states the queries answer, does not depend on
the order the updates arrived in, and carries a digest anyone can recompute."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engage_core import EngageApplication
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.choices import CHANNEL, user_choices
from engage_core.consent.contacts import ContactKey
from engage_core.consent.evidence import Proof
from engage_core.consent.proof import PROOF_FORMAT, digest_of, key_hash
from engage_core.consent.rules import SubscriptionStatus
from engage_core.testing.arrival import subscription_updates
from engage_core.testing.strategies import EPOCH

_EMAIL = ContactKey.parse("EMAIL", "grace@example.com")
_SUB, _UNSUB = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED


def _app() -> EngageApplication:
    return EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                             clock=lambda: EPOCH + timedelta(days=1))  # fmt: skip


@st.composite
def _changes(draw: st.DrawFn) -> list[ConsentChange]:
    channel = [ChannelChange(_EMAIL, u) for u in draw(subscription_updates(_EMAIL))]
    groups: list[ConsentChange] = [
        GroupChange(_EMAIL, name, update=u)
        for name in ("news", "offers")
        for u in draw(subscription_updates(_EMAIL, max_size=4))
    ]
    at = EPOCH + timedelta(minutes=draw(st.integers(0, 20)))
    proof = Proof(surface="preference_page", ip="198.51.100.7", user_agent="UA", locale="fr")
    mine = user_choices(_EMAIL, {"news": _UNSUB}, source_id="tok:1", at=at, proof=proof)
    return [*channel, *groups, *mine]


def _proof(changes: list[ConsentChange]) -> dict[str, Any]:
    app = _app()
    for change in changes:  # one at a time: each arrives after those before it
        app.change_consent([change])
    document = app.consent_proof(_EMAIL)
    answer = app.subscription(_EMAIL)
    assert document["state"]["status"] == (answer.state.status.value if answer.state.status
                                            else None)  # fmt: skip
    assert document["state"]["locked_by_user"] == answer.state.locked_by_user
    for name, state in answer.groups.items():
        assert document["groups"][name]["status"] == (state.status.value if state.status
                                                      else None)  # fmt: skip
    return document


@settings(max_examples=40, deadline=None)
@given(changes=_changes(), seed=st.integers(0, 2**32))
def test_the_proof_is_every_update_in_any_arrival_order_with_a_recomputable_digest(
    changes: list[ConsentChange], seed: int
) -> None:
    document = _proof(changes)
    shuffled = list(changes)
    random.Random(seed).shuffle(shuffled)
    again = _proof(shuffled)
    assert again["digest"] == document["digest"]
    assert again["history"] == document["history"]
    assert digest_of(document) == document["digest"]
    # every distinct update (source kind and id, per subscription) is listed once
    distinct = {(getattr(c, "group", None), c.update.provenance.kind.value,
                 c.update.provenance.source_id) for c in changes}  # fmt: skip
    listed = [(e["group"], e["source"], e["source_id"]) for e in document["history"]]
    assert sorted(listed, key=repr) == sorted(distinct, key=repr)
    assert document["format"] == PROOF_FORMAT
    assert document["key_sha256"] == key_hash(_EMAIL)
    # the user's own choice carries its evidence into the proof
    (mine,) = [e for e in document["history"] if e["source_id"] == "tok:1"]
    assert mine["evidence"]["ip"] == "198.51.100.7"
    assert mine["locks"] is True


def test_a_proof_as_of_a_time_lists_only_what_had_taken_effect() -> None:
    app = _app()
    early, late = (EPOCH + timedelta(minutes=m) for m in (1, 30))
    app.change_consent(user_choices(_EMAIL, {CHANNEL: _SUB}, source_id="a", at=early))
    app.change_consent(user_choices(_EMAIL, {CHANNEL: _UNSUB}, source_id="b", at=late))
    then = app.consent_proof(_EMAIL, as_of=early + timedelta(minutes=5))
    assert [e["source_id"] for e in then["history"]] == ["a"]
    assert then["state"]["status"] == "SUBSCRIBED"
    now = app.consent_proof(_EMAIL)
    assert now["state"] == {"status": "UNSUBSCRIBED", "locked_by_user": True,
                            "since": late.isoformat()}  # fmt: skip
    assert now["digest"] != then["digest"]
    nobody = app.consent_proof(ContactKey.parse("SMS", "+14155550123"))
    assert nobody["history"] == []
    assert nobody["state"]["status"] is None
