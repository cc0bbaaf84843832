"""Whatever text the core accepts reaches every view, on both backends, and reads back as it
was given: a NUL character (which PostgreSQL's TEXT refuses while SQLite stores it) in a user
id, a campaign, an email subject, a consent source or a group name must neither wedge a view
nor change its rows, and rows keyed by such text sort as SQLite sorts them (by code point), so
digests agree across backends."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views import FunnelView, MessageStatusView, SubscriptionView, Views, catch_up
from adapters.views.postgres import given_text, stored_text
from engage_core import Channel, EngageApplication, Send, message_id
from engage_core.consent.changes import ChannelChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from tests.views.backends import ViewBackend, examples
from tests.views.conftest import memory_app, rows
from tests.views.workload import START

# NUL, and the characters an escape of it could be confused with, alone and together
ODD = ("a\x00b", "\x00", "a\x01b", "\x01\x01", "\x01\x02", "\x00\x01\x00", "z\x7f", "é\x00ü")
EMAIL = ContactKey.parse("EMAIL", "jo@example.com")


def sends(texts: list[str]) -> list[Send]:
    """One email each, every text field of its send record holding the text."""
    return [
        Send.create(
            "email",
            "sendgrid",
            f"M{n}{text}",
            to="jo@example.com",
            user_id=text,
            campaign_id=text,
            campaign_name=text,
            journey_id=text,
            template_id=text,
            email_subject=text,
        )
        for n, text in enumerate(texts)
    ]


def sqlite_digests(app: EngageApplication) -> dict[str, tuple[int, str]]:
    """The digest of every view on SQLite, where any text is stored as given."""
    reference = Views(":memory:")
    try:
        chosen = list(reference.by_name.values())
        catch_up(app, chosen)
        return {view.name: view.digest() for view in chosen}
    finally:
        reference.close()


def test_text_with_nul_reaches_every_view_and_reads_back(view_backend: ViewBackend) -> None:
    app = memory_app()
    views = view_backend.views()
    try:
        app.observe(sends(list(ODD)))
        for n, text in enumerate(ODD):
            moment = START + timedelta(minutes=n)
            provenance = Provenance(SourceKind.API, f"api{text}", moment, moment, text)
            update = Update(SubscriptionStatus.SUBSCRIBED, provenance)
            app.change_consent(
                [ChannelChange(EMAIL, update), GroupChange(EMAIL, f"g{text}", update=update)]
            )
        chosen = list(views.by_name.values())
        catch_up(app, chosen)  # no view refuses a page (a refused page would wedge it)
        last = app.recorder.max_notification_id()
        assert {view.name: view.position() for view in chosen} == dict.fromkeys(views.by_name, last)

        status = views.by_name[MessageStatusView.name]
        assert isinstance(status, MessageStatusView)
        for n, text in enumerate(ODD):
            row = status.get(message_id(Channel.EMAIL, "sendgrid", f"M{n}{text}"))
            assert row is not None
            assert row["provider_message_id"] == f"M{n}{text}"
            fields = ("user_id", "campaign_id", "campaign_name", "email_subject")
            assert [row[field] for field in fields] == [text] * len(fields)
        funnel = views.by_name[FunnelView.name]
        assert isinstance(funnel, FunnelView)
        # in code point order, as SQLite orders text: the order digests are taken in
        assert [row.campaign_id for row in funnel.rows()] == sorted(ODD)
        subscriptions = views.by_name[SubscriptionView.name]
        assert isinstance(subscriptions, SubscriptionView)
        history = subscriptions.history("email", EMAIL.key)
        assert [(r["source_id"], r["user_id"]) for r in history] == [
            (f"api{text}", text) for text in ODD
        ]
        for text in ODD:
            (row,) = subscriptions.history("email", EMAIL.key, f"g{text}")
            assert (row["grp"], row["user_id"]) == (f"g{text}", text)
        assert {view.name: view.digest() for view in chosen} == sqlite_digests(app)
    finally:
        app.close()


# any character UTF-8 can hold (so neither a surrogate): NUL and \x01 among them
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=5)
campaigns = st.lists(texts.map(lambda t: f"c{t}c"), min_size=1, max_size=12, unique=True)


def test_rows_keyed_by_any_text_sort_and_digest_as_on_sqlite(view_backend: ViewBackend) -> None:
    @examples(view_backend, settings(max_examples=50), postgresql=10)
    @given(campaigns=campaigns)
    def check(campaigns: list[str]) -> None:
        app = memory_app()
        try:
            with view_backend.fresh_database() as database:
                funnel = FunnelView(database)
                app.observe(sends(campaigns))
                catch_up(app, [funnel])
                assert [row.campaign_id for row in funnel.rows()] == sorted(campaigns)
                assert funnel.digest() == sqlite_digests(app)["funnel"]
                assert rows(funnel)["funnel_messages"], "every message has its row"
        finally:
            app.close()

    check()


@given(st.text(), st.text())
def test_the_escape_keeps_order_and_reads_back(first: str, second: str) -> None:
    """What `test_rows_keyed_by_any_text_sort_and_digest_as_on_sqlite` relies on, for any two
    texts (cheap: no database): PostgreSQL's stored text holds no NUL, reads back as given,
    and compares as the text given (byte order: code point order)."""
    stored = (stored_text(first), stored_text(second))
    assert "\x00" not in stored[0] + stored[1]
    assert (given_text(stored[0]), given_text(stored[1])) == (first, second)
    assert (stored[0] < stored[1], stored[0] == stored[1]) == (first < second, first == second)
