"""The contact's pages over real HTTP (uvicorn, httpx): the preference page shows and saves the
contact's own choices with their proof, RFC 8058's one-click unsubscribes once whatever a mail
client repeats, a GET never changes anything, and a bad link changes nothing and says little.
One service serves the module (each test has a contact of its own). `test_pages_setup` has
double opt-in, overrides and the signer's settings."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.web.page_forms import BODY_LIMIT
from engage_core.channels import Channel
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
FORM_TYPE = "application/x-www-form-urlencoded"
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
    provenance = pages.last_provenance(contact)
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


def test_a_page_posted_back_unchanged_records_the_choices_and_publishes_nothing(
    pages: PageService,
) -> None:
    """The contact's answer is recorded even where it holds already (whether it holds in the
    end must not depend on which operator update arrived first), as the contact's own, with its
    evidence; it changes no state, so nothing is published."""
    from engage_core.consent.events import ChannelUpdateRecorded, GroupUpdateRecorded
    from engage_core.segment.mapping import consent_events

    contact = email("unchanged")
    operator(pages.app, contact, SUBSCRIBED)
    operator(pages.app, contact, SUBSCRIBED, group="news")
    path = f"/preferences/{token(contact)}"
    before, state = pages.position(), pages.app.subscription(contact)
    form = {"channel": "SUBSCRIBED", "group": "news", "subscribed": "news"}
    assert pages.client.post(path, data=form).status_code == 303
    recorded = [pages.app.mapper.to_domain_event(n) for n in
                pages.app.recorder.select_notifications(before + 1, 10)]  # fmt: skip
    assert [type(e) for e in recorded] == [ChannelUpdateRecorded, GroupUpdateRecorded]
    for event in recorded:
        assert isinstance(event, ChannelUpdateRecorded | GroupUpdateRecorded)
        assert event.update.provenance.kind.value == "preference_center"
        assert event.outcome.value == "unchanged"
        assert consent_events(event) == []
    after = pages.app.subscription(contact)
    assert (after.state, after.groups) == (state.state, state.groups)


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
    provenance = pages.last_provenance(contact)
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
    ("List-Unsubscribe=Please", FORM_TYPE, 400),
    ("", FORM_TYPE, 400),
    ("surface=page", FORM_TYPE, 400),
    ("List-Unsubscribe=One-Click&List-Unsubscribe=One-Click", FORM_TYPE, 400),  # one, not two
    ("list-unsubscribe=one-click", FORM_TYPE, 400),
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
    proof = pages.last_proof(contact)
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


def test_a_file_is_not_a_one_click(pages: PageService) -> None:
    contact = email("file")
    operator(pages.app, contact, SUBSCRIBED)
    sent = {"List-Unsubscribe": ("click.txt", b"One-Click", "text/plain")}
    answer = pages.client.post(f"/unsubscribe/{token(contact)}", files=sent)
    assert answer.status_code == 400
    assert pages.app.subscription(contact).state.status is SUBSCRIBED
