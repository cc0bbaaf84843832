"""The subscription view: every contact vector's and group's state now (`subscription_current`)
and through time (`subscription_history`), with provenance, answering "as of" in SQL.

A subscription's state is the replay of its updates in effective-time order (`consent.rules`),
so an update arriving late can change what later updates did: a STOP effective before an
operator's resubscribe refuses it, whichever arrived first. The history therefore keeps, for
each update, both what its arrival recorded (`recorded_outcome`, say `stale`: the event's own
fact) and what it does in the replay as it stands now (`replay_rank`, `outcome`, and the state
after it: `status`, `locked_by_user`, `since`). Each row's state holds from its `effective_at`
until the next row's, so the state as of `t` is the state of the last row (by `replay_rank`)
effective at or before `t`.

The replay columns are no recorded fact: a late update changes what the updates around it do,
and a re-judged group's states through time can change while the end state a
`GroupStateRejudged` records does not. So the view decides nothing itself: every subscription
a page touches is replayed once, at the end of the page, by the very functions the application
answers with (`rules.replay_channel`, `rules.replay_group`), which is why the view answers what
`channel_subscription(...).as_of(t)` and `group_subscription(..., as_of=t)` answer. A channel
update touches every group of its address too: a group update is judged against the channel
as it stood at the update's place, and which of them that changes is the rules' to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import attrs

from adapters.views.base import View
from adapters.views.database import ViewCursor, upsert
from adapters.views.records import Record
from adapters.views.status import instant
from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey, normalise_group_name
from engage_core.consent.events import ChannelUpdateRecorded, GroupUpdateRecorded
from engage_core.consent.rules import (
    Provenance,
    SourceKind,
    SubscriptionState,
    SubscriptionStatus,
    Update,
    Verdict,
    replay_channel,
    replay_group,
)

_UPDATES = frozenset({ChannelUpdateRecorded.TOPIC, GroupUpdateRecorded.TOPIC})
Subscription = tuple[str, str, str]  # (channel, key, group: '' for the channel itself)
CHANNEL = ""  # the `grp` of a channel subscription's rows

_RECORDED = (
    "channel", "key", "grp", "version", "requested_status", "lock", "unlock", "source",
    "source_id", "user_id", "effective_at", "recorded_at", "tie", "recorded_outcome",
    "recorded_error",
)  # fmt: skip
_REPLAYED = ("replay_rank", "outcome", "error", "status", "locked_by_user", "since")
_COLUMNS = (*_RECORDED, *_REPLAYED)
_CURRENT_COLUMNS = ("channel", "key", "grp", "status", "locked_by_user", "since", "source",
                    "source_id", "user_id", "updates", "last_recorded_at")  # fmt: skip
_SAME = "channel = ? AND key = ? AND grp = ?"


def _text(moment: datetime | None) -> str | None:
    return instant(moment) if moment is not None else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


_UNLOCK_ONLY = 2  # `unlock`: 0 no, 1 unlocks, 2 unlocks only a vector its user's STOP locked,
_CONFIRMS_ONLY = 3  # 3 a double opt-in confirmation (SUBSCRIBED only onto a PENDING)


def _update(row: Any) -> Update:
    """The update a history row records, as the consent rules take it."""
    provenance = Provenance(
        SourceKind(row["source"]),
        row["source_id"],
        datetime.fromisoformat(row["effective_at"]),
        datetime.fromisoformat(row["recorded_at"]),
        row["user_id"],
    )
    return Update(
        SubscriptionStatus(row["requested_status"]), provenance, bool(row["lock"]),
        row["unlock"] in (1, _UNLOCK_ONLY), unlock_only=row["unlock"] == _UNLOCK_ONLY,
        confirms_only=row["unlock"] == _CONFIRMS_ONLY,
    )  # fmt: skip


def _state(row: Any) -> SubscriptionState:
    if row is None:
        return SubscriptionState()
    status = SubscriptionStatus(row["status"]) if row["status"] is not None else None
    return SubscriptionState(status, bool(row["locked_by_user"]), _time(row["since"]))


def _replayed(rank: int, verdict: Verdict) -> tuple[Any, ...]:
    after = verdict.after
    status = after.status.value if after.status is not None else None
    error = verdict.error.value if verdict.error is not None else None
    return (rank, verdict.outcome.value, error, status, int(after.locked_by_user),
            _text(after.effective_at))  # fmt: skip


def _recorded(where: Subscription, event: ChannelUpdateRecorded | GroupUpdateRecorded
              ) -> dict[str, Any]:  # fmt: skip
    """A new history row: the update and what its arrival recorded (replay columns to come)."""
    update, p = event.update, event.update.provenance
    unlock = _UNLOCK_ONLY if update.unlock and update.unlock_only else int(update.unlock)
    if update.confirms_only:
        unlock = _CONFIRMS_ONLY
    values = (
        *where, event.originator_version, update.status.value, int(update.lock),
        unlock, p.kind.value, p.source_id, p.user_id, instant(p.effective_at),
        instant(p.recorded_at), update.replay_key[1], event.outcome.value,
        event.error.value if event.error is not None else None,
    )  # fmt: skip
    return dict(zip(_RECORDED, values, strict=True))


def _current(where: Subscription, entries: Sequence[_Entry]) -> tuple[Any, ...]:
    """The `subscription_current` row of a subscription: the state its replay ends in, and
    the provenance of the update that set it."""
    last = entries[-1].row
    setter = next((e.row for e in reversed(entries) if e.row["outcome"] == "applied"), None)
    provenance = (setter["source"], setter["source_id"], setter["user_id"]) if setter else (
        None, None, None)  # fmt: skip
    return (*where, last["status"], last["locked_by_user"], last["since"], *provenance,
            len(entries), max(e.row["recorded_at"] for e in entries))  # fmt: skip


@attrs.define
class _Entry:
    """One history row in memory, with the update it records (as the rules take it)."""

    row: dict[str, Any]
    update: Update
    dirty: bool = True  # to be written at the end of the page

    def replayed(self, rank: int, verdict: Verdict) -> None:
        """Its place and verdict in the replay as it stands now (dirty only if they moved)."""
        values = _replayed(rank, verdict)
        if tuple(map(self.row.get, _REPLAYED)) != values:
            self.row.update(zip(_REPLAYED, values, strict=True))
            self.dirty = True


Contact = dict[str, list[_Entry]]  # group ('' for the channel) -> its entries in replay order


class SubscriptionView(View):
    """`subscription_current` and `subscription_history`, per (channel, key, group).

    A page reads each contact it touches once (all its rows: the channel's and its groups', a
    handful), replays each subscription it touched once with the application's rules, and
    writes the rows that changed at the end of the page."""

    name = "subscriptions"
    reads_records = True  # reads each stored event's JSON (`Record`) field by field
    schema: ClassVar[dict[str, str]] = {
        "subscription_current": (
            "CREATE TABLE IF NOT EXISTS subscription_current (channel TEXT NOT NULL, "
            "key TEXT NOT NULL, grp TEXT NOT NULL, status TEXT, locked_by_user INTEGER NOT NULL, "
            "since TEXT, source TEXT, source_id TEXT, user_id TEXT, updates INTEGER NOT NULL, "
            "last_recorded_at TEXT NOT NULL, PRIMARY KEY (channel, key, grp))"
        ),
        "subscription_history": (
            "CREATE TABLE IF NOT EXISTS subscription_history (channel TEXT NOT NULL, "
            "key TEXT NOT NULL, grp TEXT NOT NULL, version INTEGER NOT NULL, "
            "requested_status TEXT NOT NULL, lock INTEGER NOT NULL, unlock INTEGER NOT NULL, "
            "source TEXT NOT NULL, source_id TEXT NOT NULL, user_id TEXT, "
            "effective_at TEXT NOT NULL, recorded_at TEXT NOT NULL, tie INTEGER NOT NULL, "
            "recorded_outcome TEXT NOT NULL, recorded_error TEXT, replay_rank INTEGER NOT NULL, "
            "outcome TEXT NOT NULL, error TEXT, status TEXT, locked_by_user INTEGER NOT NULL, "
            "since TEXT, PRIMARY KEY (channel, key, grp, version))"
        ),
    }
    order_by: ClassVar[dict[str, str]] = {
        "subscription_current": "channel, key, grp",
        "subscription_history": "channel, key, grp, version",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._contacts: dict[tuple[str, str], Contact] = {}  # what this page read or changed
        self._touched: set[Subscription] = set()
        super().__init__(*args, **kwargs)

    def _clear(self) -> None:
        self._contacts.clear()
        self._touched.clear()

    # Keeping the view

    def _apply(self, cursor: ViewCursor, position: int, record: Record) -> None:
        if record.topic not in _UPDATES:
            return  # duplicates, re-judged groups (the replay re-judges), listings, messages
        event = record.event()
        if isinstance(event, ChannelUpdateRecorded):
            group = CHANNEL
        elif isinstance(event, GroupUpdateRecorded):
            group = event.group
        else:  # duplicates, re-judged groups (the replay re-judges), listings, message events
            return
        channel, key = event.channel.consent_name, event.key
        contact = self._contact(cursor, channel, key)
        contact.setdefault(group, []).append(
            _Entry(_recorded((channel, key, group), event), event.update)
        )
        # only an address has groups, and each is judged against its channel
        replayed = contact if group == CHANNEL else (group,)
        self._touched.update((channel, key, g) for g in replayed)

    def _contact(self, cursor: ViewCursor, channel: str, key: str) -> Contact:
        """A contact's channel and group histories, read once a page."""
        found = self._contacts.get((channel, key))
        if found is None:
            cursor.execute(
                "SELECT * FROM subscription_history WHERE channel = ? AND key = ? "
                "ORDER BY grp, replay_rank",
                (channel, key),
            )
            found = {}
            for row in cursor.fetchall():
                entry = _Entry(dict(row), _update(row), dirty=False)
                found.setdefault(entry.row["grp"], []).append(entry)
            self._contacts[(channel, key)] = found
        return found

    def _replay(self, contact: Contact, group: str) -> None:
        """Replay a subscription in full with the application's rules, so each entry holds
        its place and verdict in the replay as it stands now."""
        entries = {id(entry.update): entry for entry in contact[group]}
        updates = [entry.update for entry in contact[group]]
        if group == CHANNEL:
            replayed = replay_channel(updates)
        else:
            replayed = replay_group(updates, [e.update for e in contact.get(CHANNEL, [])])
        contact[group] = [entries[id(update)] for update, _ in replayed]
        for rank, (update, verdict) in enumerate(replayed):
            entries[id(update)].replayed(rank, verdict)

    def _flush(self, cursor: ViewCursor) -> None:
        history: list[Any] = []
        current: list[Any] = []
        for where in sorted(self._touched):
            contact = self._contacts[(where[0], where[1])]
            self._replay(contact, where[2])
            changed = [entry for entry in contact[where[2]] if entry.dirty]
            if not changed:  # a group its channel's update did not re-judge
                continue
            history += [[e.row[c] for c in _COLUMNS] for e in changed]
            current.append(_current(where, contact[where[2]]))
            for entry in changed:
                entry.dirty = False
        self._touched.clear()
        cursor.executemany(
            upsert("subscription_history", _COLUMNS, ("channel", "key", "grp", "version")),
            history,
        )
        cursor.executemany(
            upsert("subscription_current", _CURRENT_COLUMNS, ("channel", "key", "grp")),
            current,
        )

    # Queries

    @staticmethod
    def _where(channel: Channel | str, key: str, group: str | None) -> Subscription:
        contact = ContactKey.parse(channel, key)
        return (
            contact.channel.consent_name,
            contact.key,
            normalise_group_name(group) if group else CHANNEL,
        )

    def current(
        self, channel: Channel | str, key: str, group: str | None = None
    ) -> SubscriptionState:
        """A contact vector's (or, with `group`, an address's group) state now."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT * FROM subscription_current WHERE {_SAME}",
                self._where(channel, key, group),
            )
            return _state(cursor.fetchone())

    def as_of(
        self,
        channel: Channel | str,
        key: str,
        group: str | None = None,
        *,
        at: datetime,
    ) -> SubscriptionState:
        """The state as it stood at `at` (a time without a zone is taken as UTC): the state
        after the last update, in replay order, effective at or before `at`."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT * FROM subscription_history WHERE {_SAME} AND effective_at <= ? "
                "ORDER BY replay_rank DESC LIMIT 1",
                (*self._where(channel, key, group), instant(at)),
            )
            return _state(cursor.fetchone())

    def history(
        self, channel: Channel | str, key: str, group: str | None = None
    ) -> list[dict[str, Any]]:
        """Every update of a subscription in replay order, with provenance and what it did."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT * FROM subscription_history WHERE {_SAME} ORDER BY replay_rank",
                self._where(channel, key, group),
            )
            return [dict(row) for row in cursor.fetchall()]
