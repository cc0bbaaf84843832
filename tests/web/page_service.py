"""What the pages' tests share (over HTTP and in a browser): a signer, a running service with
it, signed links, and consent set as an operator would set it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import attrs
import httpx

from adapters.pytest_plugin import serving
from adapters.stores import open_application
from adapters.web import WebSettings, create_app
from engage_core import EngageApplication
from engage_core.channels import Channel
from engage_core.consent.changes import ChannelChange, ConsentChange, GroupChange
from engage_core.consent.contacts import ContactKey
from engage_core.consent.events import ConsentEvent
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from engage_core.links import LinkClaims, LinkPurpose, LinkSigner, make_claims

__all__ = [
    "SECRET", "SIGNER", "PageService", "claims", "email", "operator", "page_service", "token",
]  # fmt: skip

SECRET = "page-test-secret-0123456789abcdef"
SIGNER = LinkSigner(SECRET, "http://localhost")


@attrs.frozen
class PageService:
    """A running service with pages: its URL, application and a client."""

    url: str
    app: EngageApplication
    client: httpx.Client

    def position(self) -> int:
        """The log's last position: unchanged means nothing was recorded."""
        return self.app.recorder.max_notification_id() or 0


@contextmanager
def page_service(folder: Path, **settings: Any) -> Iterator[PageService]:
    """The service over a SQLite file in `folder`, signing with `SIGNER` unless told."""
    app = open_application(f"sqlite:///{folder / 'engage.db'}")
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
