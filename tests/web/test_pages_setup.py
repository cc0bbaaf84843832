"""The contact's pages as a deployment sets them up, over real HTTP: double opt-in confirmed
on its page (and a lapsed one not), templates overridden by name with the deployment's notice
version in the proof, a broken override stopping the start, the signer the application brings,
the style sheet, and storage failing as a 503 page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import PersistenceError

from adapters.web import WebSettings, create_app
from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.rules import SubscriptionStatus
from engage_core.links import LinkPurpose
from tests.web.page_service import (
    SIGNER,
    PageService,
    claims,
    email,
    operator,
    page_service,
    token,
)

SUBSCRIBED = SubscriptionStatus.SUBSCRIBED
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
BROWSER = {"user-agent": "page-test-agent/1.0", "accept-language": "fr-CA,fr;q=0.8,en;q=0.5"}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageService]:
    with page_service(tmp_path_factory.mktemp("pages-setup")) as service:
        yield service


def test_double_opt_in_is_confirmed_by_the_contact(
    pages: PageService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages.app, "consent_settings", ConsentSettings(confirm={Channel.EMAIL}))
    contact = email("confirm")
    operator(pages.app, contact, SUBSCRIBED)
    assert pages.app.subscription(contact).state.status is SubscriptionStatus.PENDING
    link = token(contact, LinkPurpose.CONFIRM)
    before = pages.position()
    page = pages.client.get(f"/confirm/{link}")
    assert page.status_code == 200
    assert ">Confirm</button>" in page.text
    assert pages.position() == before  # a GET confirms nothing
    answer = pages.client.post(f"/confirm/{link}", headers=BROWSER)
    assert answer.status_code == 200
    assert "Subscription confirmed" in answer.text
    assert pages.app.subscription(contact).state.status is SUBSCRIBED
    proof = pages.last_proof(contact)
    assert (proof.surface, proof.locale) == ("confirmation", "fr-CA")
    before = pages.position()
    assert pages.client.post(f"/confirm/{link}").status_code == 200
    assert pages.position() == before


def test_a_lapsed_pending_reads_as_none_and_cannot_be_confirmed(
    pages: PageService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages.app, "consent_settings", ConsentSettings(confirm={Channel.EMAIL}))
    contact = email("lapsed")
    operator(pages.app, contact, SUBSCRIBED, at=datetime.now(UTC) - timedelta(days=8))
    page = pages.client.get(f"/preferences/{token(contact)}").text
    assert "You have not told us yet" in page
    assert "waiting for you to confirm" not in page
    before = pages.position()
    answer = pages.client.post(f"/confirm/{token(contact, LinkPurpose.CONFIRM)}")
    assert answer.status_code == 409
    assert "nothing to confirm" in answer.text
    assert pages.position() == before
    recorded = pages.app.channel_subscription(contact)
    assert recorded is not None
    assert recorded.current.status is SubscriptionStatus.PENDING  # kept as recorded
    assert pages.app.subscription(contact).state.status is None  # but it reads as none


def test_storage_failing_is_a_503_page(pages: PageService, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_: object, **__: object) -> None:
        raise PersistenceError("the store went away")

    monkeypatch.setattr(pages.app, "subscription", failing)
    answer = pages.client.get(f"/preferences/{token(email('store'))}")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "30"
    assert "went away" not in answer.text


def test_the_style_sheet_is_served(pages: PageService) -> None:
    answer = pages.client.get("/pages/engage.css")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")


def test_templates_are_overridden_by_name_and_the_notice_is_the_settings(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "preferences.html").write_text(
        '{% extends "base.html" %}{% block lang %}fr{% endblock %}{% block content %}'
        "<h1>Vos préférences</h1><form method=\"post\" action=\"{{ action }}\">"
        '<input type="radio" name="channel" value="UNSUBSCRIBED" id="u" checked>'
        '<label for="u">Plus rien</label><button>Enregistrer</button></form>{% endblock %}',
        encoding="utf-8",
    )  # fmt: skip
    with page_service(tmp_path, templates_dir=str(folder), notice_version="avis-2") as service:
        contact = email("french")
        answer = service.client.get(f"/preferences/{token(contact)}")
        assert '<html lang="fr">' in answer.text
        assert "Vos préférences" in answer.text
        assert "Your choices" not in answer.text
        unsubscribe = service.client.get(f"/unsubscribe/{token(contact)}")
        assert "Unsubscribe" in unsubscribe.text  # the rest are still the shipped ones
        posted = service.client.post(f"/preferences/{token(contact)}",
                                     data={"channel": "UNSUBSCRIBED"})  # fmt: skip
        assert posted.status_code == 303
        proof = service.last_proof(contact)
        assert proof.notice == "avis-2"


def test_the_applications_signer_serves_unless_there_is_none(tmp_path: Path) -> None:
    """Without a signer in the settings, the application's (as `open_application` sets it from
    the environment); none at all is 404, link settings that could not be used 503."""
    with page_service(tmp_path, links=None) as service:
        path = f"/preferences/{token(email('own'))}"
        service.app.links, service.app.links_problem = None, None
        answer = service.client.get(path)
        assert answer.status_code == 404
        assert "not enabled" in answer.text
        service.app.links = SIGNER
        assert service.client.get(path).status_code == 200
        service.app.links = None
        service.app.links_problem = "ENGAGE_PUBLIC_URL is not set: signed links need it"
        answer = service.client.get(path)
        assert answer.status_code == 503
        assert "ENGAGE_PUBLIC_URL" not in answer.text


def test_a_broken_override_stops_the_start_naming_the_template(tmp_path: Path) -> None:
    (tmp_path / "confirm.html").write_text('{% extends "base.html" %}\n{% if %}', "utf-8")
    settings = WebSettings.from_environment({"ENGAGE_TEMPLATES": str(tmp_path)})
    with pytest.raises(ValueError, match=r"ENGAGE_TEMPLATES: confirm.html, line 2"):
        create_app(None, settings)


def test_a_one_click_on_a_lapsed_pending_names_the_recorded_pending(
    pages: PageService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-click's source id carries the time of the state it replaces as recorded (the
    lapsed PENDING's), not 0 as if nothing were recorded: a 0 could be the id of this link's
    earlier one-click, and a duplicate id is never recorded again."""
    monkeypatch.setattr(pages.app, "consent_settings", ConsentSettings(confirm={Channel.EMAIL}))
    contact = email("lapsedclick")
    asked = datetime.now(UTC) - timedelta(days=8)
    operator(pages.app, contact, SUBSCRIBED, at=asked)
    assert pages.app.subscription(contact).state.status is None
    link = claims(contact)
    path = f"/unsubscribe/{SIGNER.token(link)}"
    assert pages.client.post(path, data=ONE_CLICK).status_code == 200
    subscription = pages.app.channel_subscription(contact)
    assert subscription is not None
    assert subscription.current.status is SubscriptionStatus.UNSUBSCRIBED
    stamp = round(asked.timestamp() * 1_000_000)
    assert subscription.updates[-1].provenance.source_id == f"{link.token_id}:one-click:{stamp}"
