"""What every stored event has, whatever its aggregate: an explicit, stable topic (never a
module path), a class version for upcasting, and the columns eventsourcing stores."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

import attrs


@attrs.frozen(kw_only=True)
class DomainEvent:
    TOPIC: ClassVar[str]
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    recorded_at: datetime
