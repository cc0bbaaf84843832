"""`engage demo`: simulated traffic through the core, summarised for a person to read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from engage_core import Channel, EngageApplication, Message, ObserveResult, lifecycle
from engage_core.simulation import Traffic

BATCH = 1000


def run(app: EngageApplication, traffic: Traffic) -> tuple[ObserveResult, list[Message]]:
    """Observe the traffic in batches; every message it touched, as stored."""
    inputs = list(traffic.inputs)
    result = ObserveResult()
    for start in range(0, len(inputs), BATCH):
        result += app.observe(inputs[start : start + BATCH])
    ids = dict.fromkeys(item.message_id for item in inputs)
    return result, [found for found in map(app.message, ids) if found is not None]


def _status_counts(messages: Sequence[Message]) -> Iterable[str]:
    for channel in Channel:
        mine = [m.state for m in messages if m.state.channel is channel]
        counts = Counter(state.status for state in mine)
        yield f"{channel.value} ({len(mine)} messages)"
        for status in reversed(lifecycle(channel).statuses):
            if counts[status]:
                bar = "#" * max(1, round(40 * counts[status] / max(len(mine), 1)))
                yield f"  {status:<20} {counts[status]:>5}  {bar}"
        engaged = Counter(kind for state in mine for kind in state.engagement)
        if engaged:
            yield "  engagement: " + ", ".join(f"{k} {v}" for k, v in sorted(engaged.items()))
        yield ""


def _most_eventful(messages: Sequence[Message]) -> Message | None:
    """The message whose history shows the most kinds of thing happening (ties: by id)."""
    return max(
        messages,
        key=lambda m: (len({e.kind for e in m.history}), len(m.history), str(m.id)),
        default=None,
    )


def report(store: str, seed: int, result: ObserveResult, messages: Sequence[Message]) -> str:
    lines = [
        f"Engage demo: {len(messages)} simulated messages, "
        f"{result.received} inputs (sends and reports)",
        f"(store {store}; seed {seed}; duplicates, reordering and lost reports included)",
        "",
        "what the inputs did:  " + "  ".join(f"{k} {v}" for k, v in result.as_dict().items()),
    ]
    if result.received and result.duplicates == result.received:
        lines.append(
            "  every input was seen before: run again with another --seed, or a fresh --store"
        )
    lines += ["", *_status_counts(messages)]
    example = _most_eventful(messages)
    if example is not None:
        state = example.state
        lines.append(
            f"One message's history, in arrival order ({state.channel.value} "
            f"{state.provider_message_id}, now {state.status}):"
        )
        lines += [f"  {entry.kind:<10} {entry.status}" for entry in example.history]
        lines += [
            "",
            "See all of it:  .venv/bin/engage message "
            f"--channel {state.channel.value} --provider-message-id {state.provider_message_id}",
        ]
    return "\n".join(lines)
