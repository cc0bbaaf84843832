"""Screenshots of the contact's pages for the documentation, taken in the browser the tests use.

    python -m tests.web.page_screenshots docs/images

writes `preferences.png`, `unsubscribe.png` and `confirm.png` (900 x 800) from a service on a
throw-away store, with made-up contacts: the pages as they are shipped, before any override.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.contacts import ContactKey
from engage_core.consent.rules import SubscriptionStatus
from engage_core.links import LinkPurpose
from tests.web.page_service import PageService, chromium, operator, page_service, token

__all__ = ["main", "take"]

_GROUPS = {"Product news": True, "Offers": False, "Events": True}


def _seed(service: PageService) -> tuple[ContactKey, ContactKey]:
    """A subscribed address with three groups, and one waiting for its confirmation."""
    app = service.app
    reader = ContactKey.parse(Channel.EMAIL, "jane.doe@example.com")
    operator(app, reader, SubscriptionStatus.SUBSCRIBED)
    for group, subscribed in _GROUPS.items():
        status = SubscriptionStatus.SUBSCRIBED if subscribed else SubscriptionStatus.UNSUBSCRIBED
        operator(app, reader, status, group=group)
    newcomer = ContactKey.parse(Channel.EMAIL, "sam.lee@example.com")
    app.consent_settings = ConsentSettings(confirm=frozenset({Channel.EMAIL}))
    operator(app, newcomer, SubscriptionStatus.SUBSCRIBED)  # PENDING its confirmation
    return reader, newcomer


def take(folder: Path) -> list[Path]:
    """The three screenshots, written into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory() as store, page_service(Path(store)) as service, \
            chromium(900, 800) as browser:  # fmt: skip
        reader, newcomer = _seed(service)
        # the page's own area 900 x 800 (a window that size leaves less to the page)
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 900, "height": 800, "deviceScaleFactor": 1, "mobile": False})  # fmt: skip
        pages = {
            "preferences.png": f"/preferences/{token(reader, group='Product news')}",
            "unsubscribe.png": f"/unsubscribe/{token(reader)}",
            "confirm.png": f"/confirm/{token(newcomer, LinkPurpose.CONFIRM)}",
        }
        for name, path in pages.items():
            browser.get(f"{service.url}{path}")
            WebDriverWait(browser, 10).until(lambda b: b.find_element(By.TAG_NAME, "h1"))
            shot = folder / name
            if not browser.save_screenshot(str(shot)):
                raise RuntimeError(f"chromium took no screenshot of {path.split('/')[1]}")
            shots.append(shot)
    return shots


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.web.page_screenshots FOLDER", file=sys.stderr)
        return 2
    for shot in take(Path(argv[0])):
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
