"""Consent: subscription states per contact and per group, with provenance (issue 3)."""
