"""Consent: subscription states per contact and per group, with provenance.

The shape of `engage_core.message`: `state`, `events`, pure `decide` (one aggregate) and
`batch` (a batch of changes across aggregates: `decide_consent`), pure `evolve`; the rules in
`rules`, contact keys in `contacts`, what message facts do to consent in `policies`, and the
queries in `queries`.
"""
