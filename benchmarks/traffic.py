"""The seeded observation stream every workload runs on.

Built from `engage_core.simulation.simulate`, so the benchmarks see the traffic the property
tests see: reports skipped, resent, reordered and contradicted, email engagement. Sends are left
out: every workload counts observations, and the comparison implementations only know statuses.

Each observation's routing key (its message id, a uuid5) is computed here, outside every timed
region, and `Observation` caches it (and its dedup keys, on first use). The fold contenders
would all pay the same ~2 µs for it, which would only dilute the ratios between the mechanisms
being compared; the ingest workload times fresh, uncached copies, as an application receives them.
"""

from __future__ import annotations

import functools
import math
from uuid import UUID

import attrs

from engage_core.observations import Observation
from engage_core.simulation import simulate

# `simulate` yields about 2.5 observations per message; planning on 2.2 leaves a margin.
_OBSERVATIONS_PER_MESSAGE = 2.2


@attrs.frozen
class Stream:
    """Observations in arrival order, each with the id of the message it belongs to."""

    observations: tuple[Observation, ...]
    message_ids: tuple[UUID, ...]

    def __len__(self) -> int:
        return len(self.observations)

    @property
    def message_count(self) -> int:
        return len(set(self.message_ids))

    def routed(self) -> list[tuple[UUID, Observation]]:
        """(message id, observation) pairs, the input of the fold implementations."""
        return list(zip(self.message_ids, self.observations, strict=True))

    def batches(self, size: int) -> list[tuple[Observation, ...]]:
        """The observations cut into consecutive batches of `size` (the last may be shorter)."""
        return [self.observations[i : i + size] for i in range(0, len(self.observations), size)]


@functools.cache
def observation_stream(seed: int, observations: int) -> Stream:
    """The first `observations` observations of the seeded simulation (same seed, same stream)."""
    messages = math.ceil(observations / _OBSERVATIONS_PER_MESSAGE)
    simulated = simulate(seed=seed, messages=messages).observations
    if len(simulated) < observations:
        raise ValueError(
            f"seed {seed}: {messages} messages gave {len(simulated)} observations, "
            f"fewer than the {observations} asked for"
        )
    chosen = simulated[:observations]
    return Stream(observations=chosen, message_ids=tuple(o.message_id for o in chosen))
