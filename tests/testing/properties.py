"""Properties written with `engage_core.testing` as a user of Engage would write them: the ones
the strength tests run against deliberately broken engines, and the suite against the real one.
Each returns a test function that runs its examples when called."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from engage_core import LIFECYCLES, Channel, ChannelChange, EngageApplication, Observation
from engage_core.testing import contacts, disorder, lifecycles, subscription_updates


def load_every_local_module() -> None:
    """Import every module of the project's own packages (all but `tests`).

    Hypothesis draws about one number or string in twenty from the constants written in the
    source of the local modules imported so far (`hypothesis.internal.constants_ast`), so with
    the same seed a run draws different examples after a test that imported more of Engage
    (`adapters` for the README's example, say, or a lazily loaded part of `engage_core`).
    Loading them all first makes that pool the same whatever ran before, so `FIND`'s fixed
    seed explores the same examples in every run and order."""
    root = Path(__file__).parents[2]
    for init in sorted(root.glob("*/__init__.py")):
        package = init.parent.name
        if package == "tests":
            continue
        for info in pkgutil.walk_packages([str(init.parent)], f"{package}."):
            if not info.name.endswith(".__main__"):  # a command, run when imported
                importlib.import_module(info.name)


load_every_local_module()

# the default example budget, and no example database, so a broken engine is found afresh
BUDGET = settings(max_examples=100, database=None, deadline=None)
# the same, only finding (a strength test needs the failure, not its smallest example), and
# from a fixed seed, so whether the budget finds it is the same every run (whatever ran
# before: see `load_every_local_module`)
FIND = settings(BUDGET, phases=[Phase.generate], derandomize=True)


def memory_app() -> EngageApplication:
    return EngageApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def last_status(walk: list[Observation]) -> str:
    table = LIFECYCLES[walk[0].channel]
    return [o.status for o in walk if table.is_status(o.status)][-1]


def walks_apply_in_order(
    channel: Channel, budget: settings = BUDGET
) -> Callable[[], None]:
    """A legal walk observed in order applies report by report and ends where it ends."""

    @budget
    @given(st.data())
    def walks(data: st.DataObject) -> None:
        end = data.draw(st.sampled_from(LIFECYCLES[channel].statuses))
        walk = data.draw(lifecycles(channel, end))
        app = memory_app()
        result = app.observe(walk)
        assert result.applied == len(walk), [(o.status) for o in walk]
        found = app.message(walk[0].message_id)
        assert found is not None
        assert found.status == last_status(walk) == end

    return walks


def arrival_changes_nothing(
    channel: Channel, budget: settings = BUDGET
) -> Callable[[], None]:
    """However a walk arrives (reordered, repeated, retried under new ids), the message ends
    as it does when it arrives in order, and every repeat is counted a duplicate."""

    @budget
    @given(st.data())
    def arrivals(data: st.DataObject) -> None:
        walk = data.draw(lifecycles(channel))
        arrived = data.draw(disorder(walk))
        clean, messy = memory_app(), memory_app()
        clean.observe(walk)
        result = messy.observe(arrived)
        assert result.duplicates == len(arrived) - len(walk)
        want, got = clean.message(walk[0].message_id), messy.message(walk[0].message_id)
        assert want is not None
        assert got is not None
        assert (got.state.status, got.state.known, got.state.engagement) == (
            want.state.status, want.state.known, want.state.engagement,
        )  # fmt: skip

    return arrivals


def consent_ignores_arrival_order(
    channel: Channel, budget: settings = BUDGET
) -> Callable[[], None]:
    """A contact's consent after its updates, applied one by one as they arrive, is what it
    is when they arrive in effective-time order."""

    @budget
    @given(st.data())
    def consent(data: st.DataObject) -> None:
        contact = data.draw(contacts(channel))
        updates = data.draw(subscription_updates(contact))
        in_time = sorted(updates, key=lambda update: update.replay_key)
        answers = []
        for order in (updates, in_time):
            app = memory_app()
            for update in order:
                app.change_consent([ChannelChange(contact, update)])
            subscription = app.channel_subscription(contact)
            assert subscription is not None
            answers.append((subscription.current.status, subscription.current.locked_by_user,
                            app.can_send(contact).allowed))  # fmt: skip
        assert answers[0] == answers[1]

    return consent
