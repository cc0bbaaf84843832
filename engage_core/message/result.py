"""What a batch of inputs did to its messages: `engage_core.counts.Counts`, under the name the
application's `observe` has always answered with."""

from __future__ import annotations

from engage_core.counts import Counts

ObserveResult = Counts

__all__ = ["ObserveResult"]
