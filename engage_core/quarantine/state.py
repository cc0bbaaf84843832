"""A held request as an operator sees it: the quarantine aggregate's state."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from engage_core.quarantine.request import HeldRequest, Problem


@attrs.frozen
class HeldEntry:
    """One held request as an operator sees it."""

    id: UUID
    version: int
    request: HeldRequest  # with the latest arrival's headers and time
    refused: bool
    problems: tuple[Problem, ...]  # the latest reasons (after the last attempt)
    times_held: int  # arrivals of this very request that were held
    retries: int
    released: bool
    last_changed_at: datetime
    unauthenticated: bool = False  # the latest attempt's signature did not verify
    last_retry_verified: bool | None = None  # None: never retried
