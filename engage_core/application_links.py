"""The application's signed links: preference, unsubscribe and confirmation URLs for a contact,
and the `List-Unsubscribe` headers a sender adds to an email (`engage_core.links`).

The application signs with `links`, a `LinkSigner` its embedder (or the adapter that opens it)
sets from the deployment's settings; the core reads no environment. Times come from the
application's clock, so a test's fixed clock makes its links too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.contacts import ContactKey
from engage_core.errors import InvalidInput
from engage_core.links import (
    LinkClaims,
    LinkPurpose,
    LinkSigner,
    LinksNotConfigured,
    list_unsubscribe_headers,
    make_claims,
)
from engage_core.message.state import Message, MessageState
from engage_core.observations import Send

__all__ = ["LinkMethods"]

# What `list_unsubscribe_headers` is asked about: a recorded message (or its state), the send
# record itself, or just the address (headers made before anything is recorded).
EmailSend = Message | MessageState | Send | ContactKey


class LinkMethods:
    """Mixed into `EngageApplication`: the link methods."""

    # Set by the embedder (or `open_application` from ENGAGE_LINK_SECRET and ENGAGE_PUBLIC_URL);
    # None: every link method raises `LinksNotConfigured`, saying `links_problem` when the
    # settings were given but could not be used (opening the store never fails over links).
    links: LinkSigner | None = None
    links_problem: str | None = None
    # the application's own (`EngageApplication`): its double opt-in window and its clock
    consent_settings: ConsentSettings
    _clock: Callable[[], datetime]

    def preference_link(
        self, contact: ContactKey, *, group: str | None = None,
        message_id: str | UUID | None = None, expires_in: timedelta | None = None,
        now: datetime | None = None,
    ) -> str:  # fmt: skip
        """The preferences page's URL for a contact (a group's page, for an email address and
        a group), valid `expires_in` (default: the signer's, 60 days) from now."""
        signer = self._signer()
        claims = self._manage_claims(signer, contact, group, message_id, expires_in, now)
        return signer.preferences_url(claims)

    def unsubscribe_link(
        self, contact: ContactKey, *, group: str | None = None,
        message_id: str | UUID | None = None, expires_in: timedelta | None = None,
        now: datetime | None = None,
    ) -> str:  # fmt: skip
        """The unsubscribe page's URL (GET: a confirmation page; POST: RFC 8058 one-click),
        for the channel or, with `group`, the address's group only."""
        signer = self._signer()
        claims = self._manage_claims(signer, contact, group, message_id, expires_in, now)
        return signer.unsubscribe_url(claims)

    def confirmation_link(
        self, contact: ContactKey, *, expires_in: timedelta | None = None,
        now: datetime | None = None,
    ) -> str:  # fmt: skip
        """The double opt-in confirmation URL for a contact's channel subscription, valid
        `expires_in` (default: the application's confirmation window, `consent_settings`, so
        the link lives as long as the PENDING it confirms)."""
        signer = self._signer()
        window = self.consent_settings.confirmation_window
        claims = make_claims(
            LinkPurpose.CONFIRM, contact, now=self._link_time(now),
            expires_in=window if expires_in is None else expires_in,
        )  # fmt: skip
        return signer.confirm_url(claims)

    def list_unsubscribe_headers(
        self, message: EmailSend, *, group: str | None = None, mailto: str | None = None,
        expires_in: timedelta | None = None, now: datetime | None = None,
    ) -> dict[str, str]:  # fmt: skip
        """RFC 8058's `List-Unsubscribe` (the one-click URL, then `mailto` when given) and
        `List-Unsubscribe-Post` headers for an email: a recorded `Message` (or its state) or
        a `Send` names its recipient (`to`) and the message the link is made for; a
        `ContactKey` names the address alone, for headers made before the send is recorded.
        Sends record no group: pass `group` to unsubscribe from that group only.
        `InvalidInput` for a message not on email, or with no recipient recorded."""
        contact, message_id = _recipient(message)
        url = self.unsubscribe_link(
            contact, group=group, message_id=message_id, expires_in=expires_in, now=now
        )
        return list_unsubscribe_headers(url, mailto)

    def link_claims(
        self, token: str, purpose: LinkPurpose, *, now: datetime | None = None
    ) -> LinkClaims:
        """What a link's token says, checked for `purpose` and expiry at the application's
        time; `BadLink` (its reason safe to show) when it cannot be used."""
        return self._signer().claims(token, purpose, now=self._link_time(now))

    def _signer(self) -> LinkSigner:
        if self.links is None:
            raise LinksNotConfigured(self.links_problem)
        return self.links

    def _link_time(self, now: datetime | None) -> datetime:
        if now is not None:
            return now
        return self._clock()

    def _manage_claims(
        self, signer: LinkSigner, contact: ContactKey, group: str | None,
        message_id: str | UUID | None, expires_in: timedelta | None, now: datetime | None,
    ) -> LinkClaims:  # fmt: skip
        return make_claims(
            LinkPurpose.MANAGE, contact, group=group, now=self._link_time(now),
            message_id=None if message_id is None else str(message_id),
            expires_in=signer.expires_in if expires_in is None else expires_in,
        )  # fmt: skip


def _recipient(message: EmailSend) -> tuple[ContactKey, str | None]:
    """The address an email went to, and Engage's id of the message (None for an address)."""
    to: str | None
    if isinstance(message, ContactKey):
        channel, message_id, to = message.channel, None, message.key
    else:
        state = message.state if isinstance(message, Message) else message
        send = state if isinstance(state, Send) else state.send
        channel = state.channel
        message_id = str(state.message_id if isinstance(state, Send) else state.id)
        to = None if send is None else send.to
    if channel is not Channel.EMAIL:
        raise InvalidInput("channel", "List-Unsubscribe headers are for email only")
    if to is None:
        raise InvalidInput("to", "the message has no recipient recorded (no send record)")
    return ContactKey.parse(channel, to), message_id
