"""Profiles at the edges of what `load_profile` accepts still generate traffic."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from types import FrameType

from engage_core.simulation.generator import generate
from engage_core.simulation.profiles import load_profile
from engage_core.simulation.walks import MAX_REPEATS


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail, instead of hanging the suite, when the block runs longer than `seconds`."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_repeat_rate_of_one_ends() -> None:
    text = (resources.files("engage_core.simulation") / "profiles_data/default.toml").read_text()
    for name in ("open", "machine_open", "click"):
        text = re.sub(rf"(?m)^{name} = [0-9.]+", f"{name} = 1.0", text)
    profile = load_profile(text)
    assert profile.rate("engagement", "click") == 1.0
    with time_limit(20):
        simulation = generate(1, 30, profile)
    counts = [
        count
        for message in simulation.truth.messages.values()
        for count in dict_of(message["engagement"]).values()
    ]
    assert counts, "delivered email is opened and clicked"
    assert max(counts) == MAX_REPEATS


def dict_of(value: object) -> dict[str, int]:
    assert isinstance(value, dict)
    return value
