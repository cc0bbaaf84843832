"""The application's consent proof and erasure: a contact's whole consent history with its
provenance and evidence digest, and crypto-shredding a contact's personal data."""

from __future__ import annotations

__all__ = ["ProofMethods"]


class ProofMethods:
    """Mixed into `EngageApplication`: proof and erasure."""
