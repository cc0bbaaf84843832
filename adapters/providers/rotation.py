"""Rotating a provider's secret without downtime: one adapter per secret, any one may verify.

A secret is rotated by configuring the new one beside the old (`ENGAGE_TWILIO_AUTH_TOKEN=new,
old`), switching the provider over, then dropping the old: in between, requests signed with
either verify. No provider's secret holds a comma (Twilio's Auth Token and Meta's app secret
are hex, SendGrid's key is base64 or PEM), so a comma separates them. `RotatingAdapter` is a
`ProviderAdapter` like the ones it wraps: `verify` tries each secret in the order given,
`parse` (which no secret changes) is the first one's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from adapters.providers.base import InboundRequest, Parsed, ProviderAdapter, SignatureRefused

__all__ = ["RotatingAdapter", "rotating", "secrets_of"]


def secrets_of(value: str | None) -> tuple[str, ...]:
    """The secrets a setting lists, comma-separated, each stripped; blanks dropped."""
    if value is None:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


class RotatingAdapter:
    """One provider's adapters, one per secret: a request verifies when any one verifies it."""

    def __init__(self, adapters: Sequence[ProviderAdapter]) -> None:
        if not adapters:
            raise ValueError("a rotating adapter needs at least one adapter")
        names = {adapter.name for adapter in adapters}
        if len(names) != 1:
            raise ValueError(f"one provider's adapters only (got {sorted(names)})")
        self.adapters = tuple(adapters)
        self.name = adapters[0].name

    def __repr__(self) -> str:  # the wrapped adapters never show their secrets either
        return f"RotatingAdapter({list(self.adapters)!r})"

    def verify(self, request: InboundRequest, *, now: datetime | None = None) -> None:
        """Return when one secret verifies the request; else `SignatureRefused` with the first
        (the newest) secret's reason, saying how many were tried."""
        refusals: list[SignatureRefused] = []
        for adapter in self.adapters:
            try:
                adapter.verify(request, now=now)
            except SignatureRefused as refusal:
                refusals.append(refusal)
                continue
            return
        first = refusals[0]
        if len(refusals) == 1:
            raise first
        raise type(first)(f"{first.reason} (tried each of the {len(refusals)} secrets configured)")

    def parse(self, request: InboundRequest) -> Parsed:
        return self.adapters[0].parse(request)


def rotating(
    make: Callable[[Mapping[str, str]], ProviderAdapter],
    variable: str,
    environ: Mapping[str, str],
) -> ProviderAdapter:
    """The adapter `make` builds from `environ`, one per secret `variable` lists: the adapter
    itself when it lists at most one (unset: `make` says what is missing, as it does today)."""
    secrets = secrets_of(environ.get(variable))
    if len(secrets) <= 1:
        return make({**environ, variable: secrets[0]} if secrets else environ)
    return RotatingAdapter([make({**environ, variable: secret}) for secret in secrets])
