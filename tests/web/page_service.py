"""What the pages' tests share (over HTTP and in a browser): a signer, a running service with
it, signed links, consent set as an operator would set it, and Debian's headless chromium.

The browser is Debian's `chromium` driven through its `chromium-driver`, both named by path so
Selenium never downloads a browser of its own; `make browser` installs them (as `make test`
does). Without them the browser tests fail, saying so: CI installs them, and a skip would
hide that the pages were never clicked through."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import attrs
import httpx
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from adapters.pytest_plugin import serving
from adapters.stores import open_application
from adapters.web import WebSettings, create_app
from engage_core import EngageApplication
from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ConsentEvent
from engage_core.consent.evidence import Proof
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.links import LinkClaims, LinkPurpose, LinkSigner, make_claims

__all__ = [
    "SECRET", "SIGNER", "BrowserMissing", "PageService", "browser_path", "chromium", "claims",
    "email", "operator", "page_service", "token",
]  # fmt: skip

SECRET = "page-test-secret-0123456789abcdef"
SIGNER = LinkSigner(SECRET, "http://localhost")


@attrs.frozen
class PageService:
    """A running service with pages: its URL, application and a client."""

    url: str
    app: EngageApplication
    client: httpx.Client

    def last_provenance(self, contact: ContactKey) -> Provenance:
        """The provenance of the last update recorded for `contact`'s channel."""
        subscription = self.app.channel_subscription(contact)
        assert subscription is not None
        return subscription.updates[-1].provenance

    def last_proof(self, contact: ContactKey) -> Proof:
        """The evidence the last update of `contact`'s channel carries."""
        proof = self.last_provenance(contact).proof
        assert proof is not None
        return proof

    def position(self) -> int:
        """The log's last position: unchanged means nothing was recorded."""
        return self.app.recorder.max_notification_id() or 0


@contextmanager
def page_service(folder: Path, **settings: Any) -> Iterator[PageService]:
    """The service over a SQLite file in `folder`, signing with `SIGNER` unless told."""
    app = open_application(f"sqlite:///{folder / 'engage.db'}", environ={})
    given = attrs.evolve(WebSettings.from_environment({}), links=SIGNER, deliver=False,
                         imports_dir=str(folder / "imports"))  # fmt: skip
    try:
        with serving(create_app(app, attrs.evolve(given, **settings))) as url, \
                httpx.Client(base_url=url, timeout=30) as client:  # fmt: skip
            yield PageService(url, app, client)
    finally:
        app.close()


def email(name: str) -> ContactKey:
    """A contact of its own for each test (the tests share one store)."""
    return ContactKey.parse(Channel.EMAIL, f"{name}-{uuid4().hex[:8]}@example.com")


def claims(
    contact: ContactKey, purpose: LinkPurpose = LinkPurpose.MANAGE, *, group: str | None = None,
    expires_in: timedelta = timedelta(days=1), now: datetime | None = None,
) -> LinkClaims:  # fmt: skip
    return make_claims(purpose, contact, group=group, expires_in=expires_in,
                       now=now or datetime.now(UTC))  # fmt: skip


def token(
    contact: ContactKey, purpose: LinkPurpose = LinkPurpose.MANAGE, *, group: str | None = None,
    signer: LinkSigner = SIGNER, **more: Any,
) -> str:  # fmt: skip
    """A signed token for `contact`'s page."""
    return signer.token(claims(contact, purpose, group=group, **more))


def operator(
    app: EngageApplication, contact: ContactKey, status: SubscriptionStatus, *,
    group: str | None = None, kind: SourceKind = SourceKind.API, at: datetime | None = None,
) -> list[ConsentEvent]:  # fmt: skip
    """An operator's change (API unless told), as a CSV row or an API call makes it."""
    when = at or datetime.now(UTC)
    update = Update(status, Provenance(kind, f"seed-{uuid4().hex}", when, when))
    change: ConsentChange = (
        ChannelChange(contact, update) if group is None
        else GroupChange(contact, group, update=update)
    )  # fmt: skip
    return app.change_consent([change])


CHROMEDRIVER = "/usr/bin/chromedriver"
_BROWSERS = ("chromium", "chromium-browser")


class BrowserMissing(RuntimeError):
    """Debian's chromium or chromium-driver is not installed."""


def browser_path() -> str:
    """Where chromium is; `BrowserMissing`, saying what to run, when it or its driver is not."""
    browser = next((found for name in _BROWSERS if (found := shutil.which(name))), None)
    if browser is None or not Path(CHROMEDRIVER).is_file():
        raise BrowserMissing(
            "the pages' browser tests need Debian's chromium and chromium-driver "
            f"({CHROMEDRIVER}): run `make browser` (make test does)"
        )
    return browser


@contextmanager
def chromium(width: int = 900, height: int = 800) -> Iterator[webdriver.Chrome]:
    """Headless chromium, its window `width` x `height`, in American English."""
    options = Options()
    options.binary_location = browser_path()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--window-size={width},{height}", "--lang=en-US",
                     "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
