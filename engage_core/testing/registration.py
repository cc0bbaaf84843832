"""Engage's types for `st.from_type` and `st.builds`: Hypothesis runs
`register_type_strategies` through its `hypothesis` entry point when it is imported, so
`st.from_type(Observation)` draws a valid report wherever `engage-core[testing]` is installed.

It registers functions, not strategies: this module imports the four types and nothing of
Hypothesis' own beyond `strategies`, so every `import hypothesis` stays cheap.
"""

from __future__ import annotations

from typing import Any

from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey
from engage_core.observations import Observation, Send

__all__ = ["register_type_strategies"]


def _channel(_: type[Any]) -> Any:
    from engage_core.testing.strategies import channels

    return channels()


def _contact(_: type[Any]) -> Any:
    from engage_core.testing.strategies import contacts

    return contacts()


def _send(_: type[Any]) -> Any:
    from engage_core.testing.strategies import sends

    return sends()


def _observation(_: type[Any]) -> Any:
    """One report: a step of some message's legal walk."""
    from hypothesis import strategies as st

    from engage_core.testing.strategies import lifecycles

    return lifecycles().flatmap(st.sampled_from)


def register_type_strategies() -> None:
    """Register Engage's strategies for `Channel`, `ContactKey`, `Send` and `Observation`
    (idempotent: registering again replaces them with the same)."""
    from hypothesis import strategies as st

    st.register_type_strategy(Channel, _channel)
    st.register_type_strategy(ContactKey, _contact)
    st.register_type_strategy(Send, _send)
    st.register_type_strategy(Observation, _observation)
