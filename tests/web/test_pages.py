"""The contact's pages over real HTTP (uvicorn, httpx): the preference page shows and saves the
contact's own choices with their proof, RFC 8058's one-click unsubscribes once whatever a mail
client repeats, a GET never changes anything, a bad link changes nothing and says little, and
double opt-in confirms a PENDING. One service serves the module (each test has its contact)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import PersistenceError

from adapters.web import WebSettings, create_app
from adapters.web.page_forms import BODY_LIMIT
from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import ErrorCode, SourceKind, SubscriptionStatus
from engage_core.links import LinkPurpose, LinkSigner
from tests.web.page_service import (
    SIGNER,
    PageService,
    claims,
    email,
    operator,
    page_service,
    token,
)

SUBSCRIBED, UNSUBSCRIBED = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
BROWSER = {"user-agent": "page-test-agent/1.0", "accept-language": "fr-CA,fr;q=0.8,en;q=0.5"}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageService]:
    with page_service(tmp_path_factory.mktemp("pages")) as service:
        yield service


def checked(html: str, name: str, value: str) -> bool:
    """Whether the input `name`=`value` is checked in the page."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return " checked" in tag
    raise AssertionError(f"no input {name}={value}")


def test_the_preference_page_shows_the_channel_and_groups(pages: PageService) -> None:
    contact = email("shows")
    operator(pages.app, contact, SUBSCRIBED)
    operator(pages.app, contact, SUBSCRIBED, group="news")
    operator(pages.app, contact, UNSUBSCRIBED, group="offers")
    answer = pages.client.get(f"/preferences/{token(contact, group='alerts')}")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert checked(html, "channel", "SUBSCRIBED")
    assert not checked(html, "channel", "UNSUBSCRIBED")
    assert checked(html, "subscribed", "news")
    assert not checked(html, "subscribed", "offers")
    assert not checked(html, "subscribed", "alerts")  # the link's group, no state yet
    assert '<html lang="en">' in html
    assert "<h1>" in html
    assert "<legend>" in html
    assert 'for="channel-subscribed"' in html
    assert 'id="channel-subscribed"' in html
    assert "<script" not in html
    assert 'type="submit"' in html
    assert contact.key not in html  # the address is shown masked
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_saving_records_the_contacts_own_choices_with_their_proof(pages: PageService) -> None:
    contact = email("saves")
    operator(pages.app, contact, SUBSCRIBED)
    operator(pages.app, contact, SUBSCRIBED, group="news")
    link = claims(contact, group="alerts")
    path = f"/preferences/{SIGNER.token(link)}"
    form = {"channel": "UNSUBSCRIBED", "group": ["news", "alerts"], "subscribed": ["alerts"]}
    answer = pages.client.post(path, data=form, headers=BROWSER)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{path.rsplit('/', 1)[1]}?saved=1"
    shown = pages.client.get(f"{path}?saved=1")
    assert "Your choices are saved" in shown.text
    assert checked(shown.text, "channel", "UNSUBSCRIBED")
    now = pages.app.subscription(contact, groups=["news", "alerts"])
    assert now.state.status is UNSUBSCRIBED
    assert now.state.locked_by_user
    assert now.groups["news"].status is UNSUBSCRIBED
    assert now.groups["alerts"].status is SUBSCRIBED
    subscription = pages.app.channel_subscription(contact)
    assert subscription is not None
    provenance = subscription.updates[-1].provenance
    assert provenance.kind is SourceKind.PREFERENCE_CENTER
    assert provenance.source_id.startswith(f"{link.token_id}:")
    proof = provenance.proof
    assert proof is not None
    assert proof.surface == "preference_page"
    assert (proof.token_id, proof.ip, proof.user_agent, proof.locale) == (
        link.token_id,
        "127.0.0.1",
        "page-test-agent/1.0",
        "fr-CA",
    )
    assert proof.notice is not None
    assert proof.notice.startswith("templates-sha256:")


def test_a_page_posted_back_unchanged_records_nothing(pages: PageService) -> None:
    contact = email("unchanged")
    operator(pages.app, contact, SUBSCRIBED)
    operator(pages.app, contact, SUBSCRIBED, group="news")
    path = f"/preferences/{token(contact)}"
    before = pages.position()
    form = {"channel": "SUBSCRIBED", "group": "news", "subscribed": "news"}
    assert pages.client.post(path, data=form).status_code == 303
    assert pages.position() == before


@pytest.mark.parametrize(("form", "why"), [
    ({"channel": "SUBSCRIBED", "colour": "blue"}, "does not have"),
    ({"channel": "MAYBE"}, "SUBSCRIBED or UNSUBSCRIBED"),
    ({"channel": ["SUBSCRIBED", "UNSUBSCRIBED"]}, "2 times"),
    ({"group": "never-shown"}, "does not show"),
    ({"subscribed": "news"}, "does not show"),  # checked, but not among the groups shown
])  # fmt: skip
def test_a_form_the_page_never_showed_is_400(
    pages: PageService, form: dict[str, object], why: str
) -> None:
    contact = email("badform")
    operator(pages.app, contact, SUBSCRIBED)
    operator(pages.app, contact, SUBSCRIBED, group="news")
    before = pages.position()
    answer = pages.client.post(f"/preferences/{token(contact)}", data=form)
    assert answer.status_code == 400
    assert why in answer.text.replace("&#39;", "'")
    assert "<h1>" in answer.text
    assert "Traceback" not in answer.text
    assert pages.position() == before


def test_a_body_over_the_limit_is_413(pages: PageService) -> None:
    contact = email("big")
    before = pages.position()
    body = "channel=SUBSCRIBED&" + "x" * BODY_LIMIT
    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = pages.client.post(f"/preferences/{token(contact)}", content=body, headers=form)
    assert answer.status_code == 413
    assert pages.position() == before


def test_one_click_unsubscribes_once_however_often_it_is_posted(pages: PageService) -> None:
    contact = email("oneclick")
    operator(pages.app, contact, SUBSCRIBED)
    link = claims(contact)
    path = f"/unsubscribe/{SIGNER.token(link)}"
    answer = pages.client.post(path, data=ONE_CLICK)
    assert answer.status_code == 200
    assert "You are unsubscribed" in answer.text
    state = pages.app.subscription(contact).state
    assert state.status is UNSUBSCRIBED
    assert state.locked_by_user
    subscription = pages.app.channel_subscription(contact)
    assert subscription is not None
    provenance = subscription.updates[-1].provenance
    assert provenance.source_id.startswith(f"{link.token_id}:one-click")
    assert provenance.proof is not None
    assert provenance.proof.surface == "one_click"
    before = pages.position()
    again = pages.client.post(path, data=ONE_CLICK)
    assert again.status_code == 200
    assert pages.position() == before


def test_one_click_with_a_group_link_unsubscribes_that_group_multipart_too(
    pages: PageService,
) -> None:
    contact = email("groupclick")
    operator(pages.app, contact, SUBSCRIBED)
    operator(pages.app, contact, SUBSCRIBED, group="news")
    answer = pages.client.post(f"/unsubscribe/{token(contact, group='news')}",
                               files={"List-Unsubscribe": (None, "One-Click")})  # fmt: skip
    assert answer.status_code == 200, answer.text
    now = pages.app.subscription(contact, groups=["news"])
    assert now.groups["news"].status is UNSUBSCRIBED
    assert now.state.status is SUBSCRIBED


@pytest.mark.parametrize("kind", [SourceKind.API, SourceKind.CSV])
def test_after_a_one_click_no_operator_can_resubscribe(
    pages: PageService, kind: SourceKind
) -> None:
    contact = email("locked")
    operator(pages.app, contact, SUBSCRIBED)
    assert pages.client.post(f"/unsubscribe/{token(contact)}", data=ONE_CLICK).status_code == 200
    [event] = operator(pages.app, contact, SUBSCRIBED, kind=kind)
    assert getattr(event, "error", None) is ErrorCode.UNABLE_TO_SUBSCRIBE
    assert pages.app.subscription(contact).state.status is UNSUBSCRIBED


def test_a_contact_who_resubscribed_can_one_click_again(pages: PageService) -> None:
    contact = email("again")
    manage = token(contact)
    assert pages.client.post(f"/unsubscribe/{manage}", data=ONE_CLICK).status_code == 200
    form = {"channel": "SUBSCRIBED"}
    assert pages.client.post(f"/preferences/{manage}", data=form).status_code == 303
    assert pages.app.subscription(contact).state.status is SUBSCRIBED
    assert pages.client.post(f"/unsubscribe/{manage}", data=ONE_CLICK).status_code == 200
    assert pages.app.subscription(contact).state.status is UNSUBSCRIBED


@pytest.mark.parametrize(("body", "media", "status"), [
    ("List-Unsubscribe=Please", "application/x-www-form-urlencoded", 400),
    ("", "application/x-www-form-urlencoded", 400),
    ("List-Unsubscribe=One-Click&extra=1", "application/x-www-form-urlencoded", 400),
    ("List-Unsubscribe=One-Click", "text/plain", 415),
    ("List-Unsubscribe=One-Click", "application/json", 415),
])  # fmt: skip
def test_any_other_unsubscribe_body_changes_nothing(
    pages: PageService, body: str, media: str, status: int
) -> None:
    contact = email("otherbody")
    operator(pages.app, contact, SUBSCRIBED)
    before = pages.position()
    answer = pages.client.post(f"/unsubscribe/{token(contact)}", content=body,
                               headers={"content-type": media})  # fmt: skip
    assert answer.status_code == status
    assert pages.position() == before


def test_the_unsubscribe_page_itself_changes_nothing(pages: PageService) -> None:
    contact = email("scanner")
    operator(pages.app, contact, SUBSCRIBED)
    before = pages.position()
    manage = token(contact)
    answer = pages.client.get(f"/unsubscribe/{manage}")
    assert answer.status_code == 200
    assert pages.position() == before
    assert 'method="post"' in answer.text
    assert f'action="{manage}"' in answer.text
    assert 'name="List-Unsubscribe" value="One-Click"' in answer.text
    assert pages.app.subscription(contact).state.status is SUBSCRIBED
    button = pages.client.post(f"/unsubscribe/{manage}", data={**ONE_CLICK, "surface": "page"})
    assert button.status_code == 200
    subscription = pages.app.channel_subscription(contact)
    assert subscription is not None
    proof = subscription.updates[-1].provenance.proof
    assert proof is not None
    assert proof.surface == "unsubscribe_page"


def _tampered(text: str) -> str:
    body, _, signature = text.rpartition(".")
    swapped = "A" if body[5] != "A" else "B"
    return f"{body[:5]}{swapped}{body[6:]}.{signature}"


def bad_tokens(contact: ContactKey) -> dict[str, tuple[str, str]]:
    """Each way a link goes bad, with the page it is tried on and the reason it is counted."""
    past = datetime.now(UTC) - timedelta(days=3)
    return {
        "forged": (LinkSigner("another-secret-0123456789", "http://localhost").token(
            claims(contact)), "forged"),
        "tampered": (_tampered(token(contact)), "forged"),
        "expired": (token(contact, expires_in=timedelta(days=1), now=past), "expired"),
        "wrong purpose": (token(contact, LinkPurpose.CONFIRM), "wrong_purpose"),
        "malformed": ("not-a-token", "forged"),
        "oversized": ("a" * 2000, "malformed"),
    }  # fmt: skip


@pytest.mark.parametrize("page", ["preferences", "unsubscribe"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_link_is_403_and_changes_nothing(pages: PageService, page: str, method: str) -> None:
    contact = email("badlink")
    operator(pages.app, contact, SUBSCRIBED)
    bodies, tried = set(), bad_tokens(contact)
    reasons = Counter(reason for _, reason in tried.values())
    counted = refusals(pages)
    before = pages.position()
    for name, (bad, _) in tried.items():
        body = ONE_CLICK if method == "POST" else None
        answer = pages.client.request(method, f"/{page}/{bad}", data=body)
        assert answer.status_code == 403, name
        assert "not valid or has expired" in answer.text
        bodies.add(answer.text)
    assert len(bodies) == 1  # the same page whatever was wrong: nothing to learn a forgery from
    assert pages.position() == before
    now = refusals(pages)
    assert {reason: now[reason] - counted[reason] for reason in reasons} == reasons
    assert pages.app.subscription(contact).state.status is SUBSCRIBED


def test_a_manage_link_does_not_confirm(pages: PageService) -> None:
    contact = email("wrongpage")
    assert pages.client.get(f"/confirm/{token(contact)}").status_code == 403


def refusals(pages: PageService) -> Counter[str]:
    """`engage_page_refusals_total` by reason, as /metrics reads."""
    metrics = pages.client.get("/metrics").text
    found = re.findall(r'engage_page_refusals_total{reason="(\w+)"} (\S+)', metrics)
    return Counter({reason: int(float(value)) for reason, value in found})


def test_the_access_log_never_holds_a_token(
    pages: PageService, caplog: pytest.LogCaptureFixture
) -> None:
    manage = token(email("logged"))
    with caplog.at_level(logging.INFO, logger="engage"):
        pages.client.get(f"/preferences/{manage}")
        pages.client.get(f"/unsubscribe/{manage}x")
    paths = [getattr(r, "engage", {}).get("path") for r in caplog.records
             if r.name == "engage.access"]  # fmt: skip
    assert "/preferences/[token]" in paths
    assert "/unsubscribe/[token]" in paths
    assert not any(manage in record.getMessage() or manage in str(vars(record))
                   for record in caplog.records)  # fmt: skip


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
    subscription = pages.app.channel_subscription(contact)
    assert subscription is not None
    proof = subscription.updates[-1].provenance.proof
    assert proof is not None
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
    assert pages.app.subscription(contact).state.status is SubscriptionStatus.PENDING


def test_a_number_has_no_groups_to_post(pages: PageService) -> None:
    contact = ContactKey.parse(Channel.SMS, "+14155550123")
    page = pages.client.get(f"/preferences/{token(contact)}")
    assert page.status_code == 200
    assert "Topics" not in page.text
    assert "•••0123" in page.text
    path = f"/preferences/{token(contact)}"
    assert pages.client.post(path, data={"channel": "SUBSCRIBED", "group": "x"}).status_code == 400
    assert pages.client.post(path, data={"channel": "SUBSCRIBED"}).status_code == 303
    assert pages.app.subscription(contact).state.status is SUBSCRIBED


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
        subscription = service.app.channel_subscription(contact)
        assert subscription is not None
        proof = subscription.updates[-1].provenance.proof
        assert proof is not None
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


def test_a_file_is_not_a_one_click(pages: PageService) -> None:
    contact = email("file")
    operator(pages.app, contact, SUBSCRIBED)
    sent = {"List-Unsubscribe": ("click.txt", b"One-Click", "text/plain")}
    answer = pages.client.post(f"/unsubscribe/{token(contact)}", files=sent)
    assert answer.status_code == 400
    assert pages.app.subscription(contact).state.status is SUBSCRIBED
