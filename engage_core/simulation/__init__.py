"""Simulated traffic, for tests, benchmarks and the demo.

Two generators, both seeded (same seed, same output):
- `simulate`: provider-neutral observations and sends (`Traffic`), the core's own inputs;
- the provider simulator (`engage_core.simulation.signing`, `.requests`): raw provider requests,
  signed as Twilio, SendGrid and Meta sign them, for testing a service end to end.

Nothing here opens a file or a socket: callers write or post what is generated.
"""

from __future__ import annotations

from engage_core.simulation.traffic import Traffic, simulate

__all__ = [
    "Traffic",
    "simulate",
]
