"""A channel update that arrives late can change what its address's groups hold (a group
change is judged against the channel as it stood at the group change's time). That change is
recorded (`GroupStateRejudged`) and published, so downstream always ends at the state the
application answers, whatever the arrival order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.stores import open_application
from adapters.views import Views, catch_up
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import GroupStateRejudged
from engage_core.consent.rules import SourceKind, SubscriptionStatus
from tests.core.test_consent_rules import SUB, UNSUB, update

EMAIL = ContactKey.parse("EMAIL", "jo@example.com")


def last_published_group_status(views: Views) -> str | None:
    found = [e.body["properties"]["status"] for e in views.outbox.entries()
             if e.event == "Group Subscription Updated"]  # fmt: skip
    return found[-1] if found else None


def test_a_late_channel_subscribe_lets_an_earlier_refused_group_change_apply() -> None:
    app = open_application("memory://")
    (refused,) = app.change_consent(
        [GroupChange(EMAIL, "news", update=update(SUB, 5, SourceKind.CSV, source_id="g"))]
    )
    assert app.group_subscription(EMAIL, "news").status is None
    # the channel subscribe happened at minute 1, and only arrives now
    app.change_consent([ChannelChange(EMAIL, update(SUB, 1, SourceKind.API, source_id="c"))])
    assert app.group_subscription(EMAIL, "news").status is SUB
    history = list(app.events.get(refused.originator_id))
    assert isinstance(history[-1], GroupStateRejudged)
    views = Views(":memory:")
    catch_up(app, [views.outbox])
    assert last_published_group_status(views) == "SUBSCRIBED"
    (published,) = [e for e in views.outbox.entries() if e.event == "Group Subscription Updated"]
    assert published.body["properties"]["outcome"] == "rejudged"
    assert published.body["properties"]["source_id"] == "c"


changes = st.lists(
    st.tuples(
        st.sampled_from(["channel", "group"]),
        st.sampled_from([SUB, UNSUB, SubscriptionStatus.DID_NOT_SUBSCRIBE]),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda c: (c[0], c[2]),
)


@settings(max_examples=60, deadline=None)
@given(changes, st.data())
def test_downstream_ends_at_the_group_state_whatever_the_order(
    made: list[tuple[str, SubscriptionStatus, int]], data: st.DataObject
) -> None:
    requested: list[ConsentChange] = []
    for n, (target, status, minute) in enumerate(made):
        item = update(status, minute, SourceKind.API, source_id=f"{target}-{n}")
        requested.append(
            ChannelChange(EMAIL, item) if target == "channel"
            else GroupChange(EMAIL, "news", update=item)
        )  # fmt: skip
    app = open_application("memory://")
    for change in data.draw(st.permutations(requested)):
        app.change_consent([change])  # one at a time, as they would arrive
    views = Views(":memory:")
    catch_up(app, [views.outbox])
    state = app.group_subscription(EMAIL, "news").status
    published = last_published_group_status(views)
    assert published == (state.value if state is not None else None)
