"""`engage diagram`: a lifecycle as Mermaid text. A module of its own so that drawing imports
the lifecycles only, not the stores and views the other verbs' handlers need."""

from __future__ import annotations

import argparse


def diagram(args: argparse.Namespace) -> int:
    from engage_core.channels import Channel
    from engage_core.lifecycles.diagram import mermaid

    print(mermaid(Channel(args.channel)), end="")
    return 0
