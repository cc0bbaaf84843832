"""Markdown reference tables generated from the compiled lifecycles, for docs/lifecycles.md
(a test fails when the documentation and the tables differ)."""

from __future__ import annotations

from engage_core.channels import Channel
from engage_core.lifecycles import lifecycle


def status_table(channel: Channel) -> str:
    """Statuses from highest to lowest precedence, what follows each, and its Segment event."""
    rules = lifecycle(channel)
    rows = [
        "| status | precedence | can move on to | terminal | Segment event |",
        "|---|---|---|---|---|",
    ]
    for status in reversed(rules.statuses):
        onward = sorted(
            (dest for source, dest in rules.edges if source == status),
            key=rules.rank.__getitem__,
        )
        event = rules.event_names[status]
        rows.append(
            f"| `{status}` | {rules.rank[status]} | {', '.join(onward) or '—'} "
            f"| {'yes' if status in rules.terminal else ''} "
            f"| {event if event else '— (kept in history; see below)'} |"
        )
    for kind, event in rules.engagement_names.items():
        rows.append(
            f"| `{kind}` (engagement) | implies {rules.engagement_implies} | — |  | {event} |"
        )
    return "\n".join(rows) + "\n"
