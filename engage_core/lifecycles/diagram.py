"""Mermaid diagrams generated from the same Machines the tables are compiled from.

`GraphMachine(model=None)` cannot draw (it draws for `models[0]`), so the diagram machine gets a
throwaway model; its states and transitions are read back off the declared Machine, never
re-declared. The "active state" styling GraphMachine adds is stripped: documentation shows a
lifecycle, not one message's position in it.
"""

from __future__ import annotations

from typing import Any

from transitions.extensions import GraphMachine

from engage_core.channels import Channel
from engage_core.lifecycles import MACHINES

__all__ = [
    "mermaid",
]


class _DiagramModel:
    """Stands in for the model GraphMachine insists on drawing."""


def _transitions_of(machine: Any) -> list[list[str]]:
    return [
        [trigger, source, transition.dest]
        for trigger, event in machine.events.items()
        for source, transitions in event.transitions.items()
        for transition in transitions
    ]


def mermaid(channel: Channel) -> str:
    """The Mermaid `stateDiagram-v2` source of a channel's lifecycle."""
    machine = MACHINES[channel]
    graph = GraphMachine(
        model=_DiagramModel(),
        states=list(machine.states),
        transitions=_transitions_of(machine),
        initial=machine.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"{channel.value} message lifecycle",
    )
    source: str = graph.get_graph().draw(None)
    lines = [
        line.rstrip()
        for line in source.splitlines()
        if line.strip() and not line.lstrip().startswith(("classDef ", "Class "))
    ]
    # transitions writes its title as a bare line between `---` fences; Mermaid's front matter
    # wants `title: …` there, or it ignores the title (and some renderers refuse the diagram).
    if lines[:1] == ["---"] and len(lines) > 2 and lines[2] == "---":
        lines[1] = f"title: {lines[1].strip()}"
    return "\n".join(lines) + "\n"
