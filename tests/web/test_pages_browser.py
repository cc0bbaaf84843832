"""The contact's pages clicked through in a real headless browser (Debian's chromium): the
preference page's labels toggle their inputs and its form saves what was chosen, the
unsubscribe page changes nothing until its button is pressed, and the confirmation page's
button confirms a double opt-in. One browser serves every test (it is slow to start).

Without chromium these tests fail (never skip): `make browser` installs it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.rules import SubscriptionStatus
from engage_core.links import LinkPurpose
from tests.web.page_service import (
    BrowserMissing,
    PageService,
    browser_path,
    chromium,
    email,
    operator,
    page_service,
    token,
)

SUBSCRIBED, UNSUBSCRIBED = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    missing = None
    try:
        browser_path()
    except BrowserMissing as error:
        missing = str(error)
    if missing is not None:  # a failure, not a skip: CI installs chromium (`make browser`)
        pytest.fail(missing, pytrace=False)
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageService]:
    with page_service(tmp_path_factory.mktemp("browser")) as service:
        yield service


def label(browser: webdriver.Chrome, text: str) -> str:
    """Click the label reading `text`; the id of the input it is for."""
    found = browser.find_element(By.XPATH, f"//label[normalize-space()='{text}']")
    found.click()
    return str(found.get_attribute("for"))


def arrived(browser: webdriver.Chrome, heading: str) -> None:
    """Wait for the page whose heading is `heading` (a click's answer loads after it)."""
    WebDriverWait(browser, 10, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException,
    )).until(lambda _: browser.find_element(By.TAG_NAME, "h1").text == heading)  # fmt: skip


def selected(browser: webdriver.Chrome, input_id: str) -> bool:
    return browser.find_element(By.ID, input_id).is_selected()


def test_the_preference_page_saves_what_was_clicked(
    browser: webdriver.Chrome, pages: PageService
) -> None:
    contact = email("clicks")
    operator(pages.app, contact, SUBSCRIBED)
    for group in ("news", "offers"):
        operator(pages.app, contact, SUBSCRIBED, group=group)
    browser.get(f"{pages.url}/preferences/{token(contact)}")
    arrived(browser, "Your preferences")
    news = label(browser, "news")  # clicking its label unchecks it
    assert not selected(browser, news)
    unsubscribed = label(browser, "Unsubscribed: send me no email at all")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda _: "saved=1" in browser.current_url)
    arrived(browser, "Your preferences")
    assert "Your choices are saved" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert selected(browser, unsubscribed)
    assert not selected(browser, news)
    now = pages.app.subscription(contact, groups=["news", "offers"])
    assert now.state.status is UNSUBSCRIBED
    assert (now.groups["news"].status, now.groups["offers"].status) == (UNSUBSCRIBED, SUBSCRIBED)
    subscription = pages.app.channel_subscription(contact)
    assert subscription is not None
    proof = subscription.updates[-1].provenance.proof
    assert proof is not None
    assert proof.user_agent is not None
    assert "Chrome" in proof.user_agent
    assert (proof.surface, proof.locale) == ("preference_page", "en-US")


def test_the_unsubscribe_page_waits_for_its_button(
    browser: webdriver.Chrome, pages: PageService
) -> None:
    contact = email("button")
    operator(pages.app, contact, SUBSCRIBED)
    before = pages.position()
    browser.get(f"{pages.url}/unsubscribe/{token(contact)}")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Unsubscribe")
    assert pages.position() == before
    assert pages.app.subscription(contact).state.status is SUBSCRIBED
    browser.find_element(By.XPATH, "//button[normalize-space()='Unsubscribe']").click()
    arrived(browser, "You are unsubscribed")
    state = pages.app.subscription(contact).state
    assert state.status is UNSUBSCRIBED
    assert state.locked_by_user


def test_the_confirmation_page_confirms_on_its_button(
    browser: webdriver.Chrome, pages: PageService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages.app, "consent_settings", ConsentSettings(confirm={Channel.EMAIL}))
    contact = email("confirms")
    operator(pages.app, contact, SUBSCRIBED)
    browser.get(f"{pages.url}/confirm/{token(contact, LinkPurpose.CONFIRM)}")
    arrived(browser, "Confirm your subscription")
    assert pages.app.subscription(contact).state.status is SubscriptionStatus.PENDING
    browser.find_element(By.XPATH, "//button[normalize-space()='Confirm']").click()
    arrived(browser, "Subscription confirmed")
    assert pages.app.subscription(contact).state.status is SUBSCRIBED
