"""The application's consent proof: a contact's whole consent history with its provenance,
evidence and digest (`engage_core.consent.proof`), read from the log.

A mixin of `EngageApplication`, typed against the two parts of it it uses (`_Host`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.contacts import ContactKey
from engage_core.consent.proof import consent_proof

__all__ = ["ProofMethods"]


class _Host(Protocol):
    """The parts of `EngageApplication` the proof uses."""

    consent_settings: ConsentSettings

    @property
    def _clock(self) -> Callable[[], datetime]: ...

    def _events_of(self, aggregate_id: UUID, after: int = 0) -> Iterable[Any]: ...


class ProofMethods:
    """Mixed into `EngageApplication`: the consent proof."""

    def consent_proof(
        self: _Host, contact: ContactKey, *, as_of: datetime | None = None
    ) -> dict[str, Any]:
        """The proof document of `contact`, as it stood at `as_of` (default: now): states,
        every update of its channel and groups with provenance and evidence, and the digest
        (`engage_core.consent.proof`). A contact nobody recorded has an empty history."""
        return consent_proof(self._events_of, contact, now=self._clock(), as_of=as_of,
                             settings=self.consent_settings)  # fmt: skip
