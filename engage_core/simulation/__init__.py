"""Simulated traffic, for tests, benchmarks and the demo.

Two generators, both seeded (same seed, same output):
- `simulate`: provider-neutral observations and sends (`Traffic`), the core's own inputs;
- the provider simulator (`generator.generate`, from a profile of `profiles`; its pieces
  `signing` and `requests`): raw provider requests, signed as Twilio, SendGrid and Meta sign
  them, with the ground truth they imply (`truth`), for testing a service end to end.

Nothing here opens a file or a socket (the shipped profiles are read as package data):
callers write or post what is generated.
"""

from __future__ import annotations

from engage_core.simulation.traffic import Traffic, simulate

__all__ = [
    "Traffic",
    "simulate",
]
