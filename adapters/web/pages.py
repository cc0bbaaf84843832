"""The contact's own pages: the preference center, the one-click unsubscribe and its
confirmation page, and the double opt-in confirmation, each behind a signed link.

| route | token | GET | POST |
|---|---|---|---|
| `/preferences/{token}` | manage | the channel and groups, in a form | choices saved; 303 |
| `/unsubscribe/{token}` | manage | a page with a button; changes nothing | RFC 8058 one-click |
| `/confirm/{token}` | confirm | a page with a button; changes nothing | PENDING made SUBSCRIBED |
| `/pages/engage.css` | none | the pages' style sheet | |

A GET never changes anything: mail scanners and link previews follow every link in a
message. Every change is the contact's own (`page_consent`), with the link's token id and the
request's evidence (IP, user agent, first `Accept-Language` tag, the notice version, the page)
as its proof. A link that is forged, tampered with, expired, for another page or malformed is
answered 403 with a page that says only that it is not valid, counted by reason
(`engage_page_refusals_total`) and logged without the token; nothing is read or changed (a
body declared over the form limit, or chunked, is not drained either: the answer closes the
connection).

The one-click POST follows RFC 8058: the body `List-Unsubscribe=One-Click`, form-encoded or
multipart, read as §3.2 says and no stricter (`_one_click`: one such field, whitespace around
it and other fields let be); no cookie or authentication asked for (the token is the
authority); answered 200 at once, no redirect, nothing more to do; posted again, it records
nothing new. The unsubscribe page's own button posts the same body (and `surface=page`, so the
proof says which it was).

The signer is the settings' (`WebSettings.links`, given in code), else the application's own
(`open_application` makes it from `ENGAGE_LINK_SECRET`, `ENGAGE_PUBLIC_URL`). Without one every
page answers 404: no link can have been made for this service, so none can be valid; with link
settings that cannot be used, 503 (the reason, naming the variable, logged as a warning).
Storage failing is a 503 page with `Retry-After`, as elsewhere in the service.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web.body import declared_length
from adapters.web.handler import STORAGE_ERRORS, log_unavailable
from adapters.web.observability import current_request_id
from adapters.web.page_consent import (
    PREFERENCE_FIELDS,
    ContactView,
    confirm,
    confirm_state,
    contact_view,
    save_choices,
    unsubscribe,
)
from adapters.web.page_forms import BODY_LIMIT, Form, PageError, read_form
from adapters.web.page_render import (
    PAGE_HEADERS,
    STYLESHEET_PATH,
    PageTemplates,
    channel_words,
    masked,
)
from adapters.web.runtime import Runtime
from adapters.web.urls import client_address
from engage_core.consent.events import ConsentEvent, changed_anything
from engage_core.consent.evidence import Proof
from engage_core.consent.rules import SubscriptionStatus
from engage_core.errors import InvalidInput
from engage_core.links import BadLink, LinkClaims, LinkPurpose, LinkSigner

__all__ = ["page_routes"]

_T = TypeVar("_T")
Handler = Callable[[Request, LinkClaims], Awaitable[Response]]
LOG = logging.getLogger("engage.pages")
_UNAVAILABLE: tuple[type[Exception], ...] = (*STORAGE_ERRORS, sqlite3.Error)
_REASONS = {BadLink.FORGED: "forged", BadLink.EXPIRED: "expired",
            BadLink.MALFORMED: "malformed", BadLink.WRONG_PURPOSE: "wrong_purpose"}  # fmt: skip
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058's body, its one field and value
_NOT_ENABLED = "These pages are not enabled on this service."
_CLOSE: Mapping[str, str] = {"connection": "close"}


def page_routes(runtime: Runtime) -> list[Route]:
    """The pages' routes over one runtime (their templates read and compiled now)."""
    return Pages(runtime).routes()


class Pages:
    """The pages of one service: its runtime, templates and counters."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.templates = PageTemplates(settings.templates_dir, settings.notice_version)
        registry = runtime.metrics.registry
        self.refusals = Counter(
            "engage_page_refusals", "Contact page requests refused for their link (forged, "
            "expired, malformed, wrong_purpose), nothing read or changed", ("reason",),
            registry=registry,
        )  # fmt: skip
        self.acts = Counter(
            "engage_page_acts", "Choices contacts made on their pages (preferences, "
            "one_click, confirm), by whether they changed anything", ("act", "outcome"),
            registry=registry,
        )  # fmt: skip

    def routes(self) -> list[Route]:
        manage, confirming = LinkPurpose.MANAGE, LinkPurpose.CONFIRM
        both = ["GET", "POST"]
        return [
            Route("/preferences/{token}", self._linked(manage, self._preferences), methods=both),
            Route("/unsubscribe/{token}", self._linked(manage, self._unsubscribe), methods=both),
            Route("/confirm/{token}", self._linked(confirming, self._confirm), methods=both),
            Route(STYLESHEET_PATH, self._stylesheet, methods=["GET"]),
        ]

    async def _stylesheet(self, _: Request) -> Response:
        return self.templates.css()

    def _linked(self, purpose: LinkPurpose, handler: Handler) -> Callable[..., Any]:
        """`handler` for requests whose token holds for `purpose`, with every refusal answered
        as a page: a bad link 403, a bad request its 4xx, storage failing 503."""

        async def endpoint(request: Request) -> Response:
            try:
                signer = await self._signer()
                if not isinstance(signer, LinkSigner):
                    return self._unconfigured(signer, _unread(request))
                claims = signer.claims(request.path_params["token"], purpose, now=_now())
                return await handler(request, claims)
            except BadLink as bad:
                return self._refused(bad, _unread(request))
            except PageError as error:
                close = {"connection": "close"} if error.close else None
                return self.templates.error(error.status, error.heading, error.message,
                                            extra=close)  # fmt: skip
            except InvalidInput as error:
                return self.templates.error(400, "This form could not be read", error.problem)
            except _UNAVAILABLE as error:
                log_unavailable(error)
                return self.templates.error(
                    503, "Please try again shortly", "Your choices cannot be read or saved "
                    "right now; nothing was changed.", extra={"retry-after": "30"},
                )  # fmt: skip

        endpoint.__name__ = handler.__name__.lstrip("_")
        return endpoint

    async def _signer(self) -> LinkSigner | str | None:
        """The settings' signer, else the application's; else why it has none (its link
        settings could not be used), or None when none was ever set."""
        if self.runtime.settings.links is not None:
            return self.runtime.settings.links
        application = await self.runtime.run(self.runtime.application)
        return application.links or application.links_problem

    def _unconfigured(self, problem: str | None, unread: Mapping[str, str] | None) -> Response:
        """No signer: 404 when links were never set up (no link of this service can exist),
        503 when they were and cannot be used (the reason, naming the variable, is logged);
        the body left unread (`_unread`)."""
        fields = {"event": "pages_not_configured", "request_id": current_request_id()}
        if problem is None:
            LOG.info("page asked for; no link signer is configured", extra={"engage": fields})
            return self.templates.error(404, "Page not found", _NOT_ENABLED, extra=unread)
        LOG.warning("page asked for; links misconfigured: %s", problem, extra={"engage": fields})
        return self.templates.error(503, "Please try again later", "These pages are not "
                                    "available right now; nothing was changed.",
                                    extra=unread)  # fmt: skip

    def _refused(self, bad: BadLink, unread: Mapping[str, str] | None) -> Response:
        """403, the same page whatever was wrong, the body left unread (`_unread`)."""
        reason = _REASONS.get(bad.reason, "forged")
        self.refusals.labels(reason).inc()
        LOG.info("page link refused: %s", reason, extra={"engage": {
            "event": "page_link_refused", "reason": reason, "request_id": current_request_id(),
        }})  # fmt: skip
        return self.templates.page("invalid_link.html", 403, extra=unread)

    async def _run(self, function: Callable[..., _T], *args: Any) -> _T:
        """`function(application, *args)` in a worker thread (it reads or writes the store)."""
        runtime = self.runtime
        return await runtime.run(lambda: function(runtime.application(), *args))

    def _proof(self, request: Request, claims: LinkClaims, surface: str) -> Proof:
        """What the request says of how the contact answered, as far as it is known."""
        peer = request.client.host if request.client else None
        address = client_address(peer, request.headers, self.runtime.settings) if peer else None
        return Proof(
            surface=surface, notice=self.templates.notice, ip=address,
            user_agent=request.headers.get("user-agent"),
            locale=_locale(request.headers.get("accept-language", "")), token_id=claims.token_id,
        )  # fmt: skip

    def _counted(self, act: str, events: list[ConsentEvent]) -> None:
        self.acts.labels(act, "changed" if changed_anything(events) else "unchanged").inc()

    async def _preferences(self, request: Request, claims: LinkClaims) -> Response:
        token = request.path_params["token"]
        if request.method == "POST":
            form = Form(await read_form(request), *PREFERENCE_FIELDS)
            proof = self._proof(request, claims, "preference_page")
            self._counted("preferences", await self._run(save_choices, claims, form, proof, _now()))
            # Post/Redirect/Get: a reload shows the page, never posts the choices again
            return RedirectResponse(f"{token}?saved=1", 303, headers=PAGE_HEADERS)
        view: ContactView = await self._run(contact_view, claims)
        return self.templates.page(
            "preferences.html", **_about(view), action=token,
            saved="saved" in request.query_params, **_channel_choice(view),
            groups=[{"name": name, "subscribed": state.status is SubscriptionStatus.SUBSCRIBED,
                     "status": _shown(state.status)} for name, state in view.groups.items()],
            more_groups=view.hidden,
        )  # fmt: skip

    async def _unsubscribe(self, request: Request, claims: LinkClaims) -> Response:
        token = request.path_params["token"]
        context: dict[str, Any] = {"group": claims.group, "action": token,
                                   "preferences": f"../preferences/{token}"}  # fmt: skip
        if request.method != "POST":
            view: ContactView = await self._run(contact_view, claims)
            state = view.channel if claims.group is None else view.groups[claims.group]
            already = state.status is SubscriptionStatus.UNSUBSCRIBED
            return self.templates.page("unsubscribe.html", **_about(view), **context,
                                       already=already)  # fmt: skip
        surface = _one_click(await read_form(request, strict=False))
        proof = self._proof(request, claims, surface)
        self._counted("one_click", await self._run(unsubscribe, claims, proof, _now()))
        return self.templates.page("unsubscribed.html", contact=masked(claims.contact),
                                   **channel_words(claims.channel), **context)  # fmt: skip

    async def _confirm(self, request: Request, claims: LinkClaims) -> Response:
        token = request.path_params["token"]
        if request.method != "POST":
            view: ContactView = await self._run(contact_view, claims)
            return self.templates.page("confirm.html", **_about(view), action=token,
                                       state=confirm_state(view))  # fmt: skip
        Form(await read_form(request))  # the button posts no field: any field is a 400
        proof = self._proof(request, claims, "confirmation")
        found: str = await self._run(confirm, claims, proof, _now())
        self.acts.labels("confirm", "changed" if found == "confirmed" else "unchanged").inc()
        about: dict[str, Any] = {"contact": masked(claims.contact), **channel_words(claims.channel)}
        if found == "nothing":
            return self.templates.page("confirm.html", 409, **about, action=token, state=found)
        return self.templates.page("confirmed.html", **about)


def _now() -> datetime:
    return datetime.now(UTC)


def _unread(request: Request) -> Mapping[str, str] | None:
    """The headers for an answer that leaves the body unread. A small body is left to the
    server, which drains it and keeps the connection (closing it with the body unread could
    reset it before the client reads the answer); one declared over `BODY_LIMIT`, or chunked
    (of any length, endless even), is answered `Connection: close`, so the server never reads
    and throws away hundreds of MiB a forged link sent on a connection kept alive."""
    if "transfer-encoding" in request.headers:
        return _CLOSE
    declared = declared_length(request.headers)
    return _CLOSE if declared is not None and declared > BODY_LIMIT else None


def _one_click(fields: list[tuple[str, str]]) -> str:
    """The surface a one-click came from, once its body is found to be RFC 8058's; else a
    400. §3.2 says only that the body carries `List-Unsubscribe=One-Click`, so it is read as
    such: exactly one `List-Unsubscribe` field whose value is `One-Click`, both stripped (a
    trailing newline, a leading space), any other field ignored (a trailing `&`, a mail
    client's own); `surface=page` says the unsubscribe page's own button posted it."""
    name, value = _ONE_CLICK
    given = [v.strip() for n, v in fields if n.strip() == name]
    if given != [value]:
        raise PageError(400, "This request could not be read", "An unsubscribe request "
                        "posts List-Unsubscribe=One-Click.")  # fmt: skip
    button = [v.strip() for n, v in fields if n.strip() == "surface"]
    return "unsubscribe_page" if button == ["page"] else "one_click"


def _locale(header: str) -> str | None:
    """The first language tag of `Accept-Language` (`fr-CA` of `fr-CA,fr;q=0.8`), if sane."""
    first = header.split(",")[0].split(";")[0].strip()
    return first if _LANGUAGE_TAG.fullmatch(first) else None


def _about(view: ContactView) -> dict[str, Any]:
    return {"contact": masked(view.contact), **channel_words(view.contact.channel)}


def _shown(status: SubscriptionStatus | None) -> str | None:
    return None if status is None else status.value


def _channel_choice(view: ContactView) -> dict[str, Any]:
    """The channel's radio buttons: the one checked (none while nothing, or only a PENDING,
    is stated) and whether a confirmation is awaited."""
    status = view.channel.status
    pending = status is SubscriptionStatus.PENDING
    checked = status if status in {SubscriptionStatus.SUBSCRIBED,
                                   SubscriptionStatus.UNSUBSCRIBED} else None  # fmt: skip
    return {"channel": _shown(checked), "pending": pending}
