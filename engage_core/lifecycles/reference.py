"""Markdown reference tables generated from the compiled lifecycles, for docs/lifecycles.md
(a test fails when the documentation and the tables differ)."""

from __future__ import annotations

import re

from engage_core.channels import Channel
from engage_core.lifecycles import lifecycle
from engage_core.lifecycles.diagram import mermaid


def status_table(channel: Channel) -> str:
    """Statuses from highest to lowest precedence, what follows each, and its Segment event."""
    rules = lifecycle(channel)
    rows = [
        "| status | precedence | can move on to | proves | terminal | Segment event |",
        "|---|---|---|---|---|---|",
    ]
    for status in reversed(rules.statuses):
        onward = sorted(
            (dest for source, dest in rules.edges if source == status),
            key=rules.rank.__getitem__,
        )
        event = rules.event_names[status]
        rows.append(
            f"| `{status}` | {rules.rank[status]} | {', '.join(onward) or '—'} "
            f"| {', '.join(rules.implied[status]) or '—'} "
            f"| {'yes' if status in rules.terminal else ''} "
            f"| {event if event else '— (kept in history; see below)'} |"
        )
    implied = rules.engagement_implies
    for kind, event in rules.engagement_names.items():
        proved = ", ".join((*rules.implied[implied], implied)) if implied else "—"
        rows.append(f"| `{kind}` (engagement) | — | — | {proved} |  | {event} |")
    return "\n".join(rows) + "\n"


_DIAGRAM = re.compile(r"(<!-- diagram: (\w+) -->\n```mermaid\n)(.*?)(```)", re.S)
_TABLE = re.compile(r"(<!-- table: (\w+) -->\n)(.*?)(<!-- end table -->)", re.S)


def refresh(document: str) -> str:
    """`document` with every marked diagram and status table regenerated from the Machines.

    docs/lifecycles.md marks them with `<!-- diagram: sms -->` and `<!-- table: sms -->` …
    `<!-- end table -->`; `make docs` rewrites the file with this, and a test checks that doing
    so would change nothing.
    """

    def diagram(match: re.Match[str]) -> str:
        return match[1] + mermaid(Channel(match[2])) + match[4]

    def table(match: re.Match[str]) -> str:
        return match[1] + status_table(Channel(match[2])) + match[4]

    return _TABLE.sub(table, _DIAGRAM.sub(diagram, document))
