"""The contact's pages as HTML: Jinja2 templates, autoescaped, that a deployment overrides file
by file, and the headers every page is sent with.

A deployment's directory (`ENGAGE_TEMPLATES`) comes first, the templates shipped in
`adapters/web/templates/` after it, so an override replaces one file (its wording, its
language, the style sheet) and the rest stay. Every template is read and compiled when the app
is made: a broken override stops the service at start, not at a contact's click. The notice
version a proof records is the deployment's (`ENGAGE_NOTICE_VERSION`), else a digest of the
templates in use, so the evidence names the very wording shown even when nobody set one.

The headers keep a page's link (a credential) where it is: no `Referer` leaves it, no cache
keeps it, no other site frames the page (a framed one-click button could be clicked by a
trick), and the page loads nothing but its own style sheet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError
from starlette.responses import Response

from adapters.web.settings import TEMPLATES_VAR
from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey

__all__ = [
    "BUILTIN_TEMPLATES", "PAGE_HEADERS", "STYLESHEET", "STYLESHEET_PATH", "TEMPLATE_NAMES",
    "PageTemplates", "channel_words", "masked",
]  # fmt: skip

BUILTIN_TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE_NAMES = (
    "base.html", "preferences.html", "unsubscribe.html", "unsubscribed.html", "confirm.html",
    "confirmed.html", "invalid_link.html", "error.html",
)  # fmt: skip
STYLESHEET = "engage.css"
STYLESHEET_PATH = "/pages/engage.css"
# every page is two segments deep (`/preferences/{token}`): relative, so a mount prefix holds
_STYLESHEET_HREF = "../pages/engage.css"
PAGE_HEADERS: Mapping[str, str] = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
_HTML = "text/html; charset=utf-8"
_WORDS = {
    Channel.EMAIL: ("email", "Email"),
    Channel.SMS: ("text messages", "Text messages"),
    Channel.WHATSAPP: ("WhatsApp messages", "WhatsApp messages"),
}


def channel_words(channel: Channel) -> dict[str, Any]:
    """How a page names the channel: in a sentence (`channel_label`) and as a heading."""
    label, heading = _WORDS[channel]
    return {"channel_label": label, "channel_heading": heading}


def masked(contact: ContactKey) -> str:
    """The contact as a page shows it: enough for its owner to recognise, little for whoever
    a link was forwarded to (`j•••@example.com`, `•••0123`)."""
    if contact.channel is Channel.EMAIL:
        local, _, domain = contact.key.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    return f"•••{contact.key[-4:]}"


class PageTemplates:
    """The pages' templates (the deployment's directory first) and the notice version."""

    def __init__(self, directory: str | None = None, notice: str | None = None) -> None:
        folders = [directory] if directory else []
        loader = ChoiceLoader([FileSystemLoader([*folders, str(BUILTIN_TEMPLATES)])])
        self._env = Environment(loader=loader, autoescape=True, undefined=StrictUndefined,
                                auto_reload=False)  # fmt: skip
        digest = hashlib.sha256()
        for name in (*TEMPLATE_NAMES, STYLESHEET):
            source, _, _ = loader.get_source(self._env, name)
            digest.update(f"{name}\0{source}\0".encode())
            if name != STYLESHEET:
                self._compiled(name)
        self.stylesheet = loader.get_source(self._env, STYLESHEET)[0]
        self.notice = notice or f"templates-sha256:{digest.hexdigest()[:16]}"

    def _compiled(self, name: str) -> None:
        """`name` compiled now: a broken override stops the start, naming the variable."""
        try:
            self._env.get_template(name)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            where = f"{name}, line {line}" if line else name
            raise ValueError(f"{TEMPLATES_VAR}: {where}: {error.message or error}") from None

    def page(self, name: str, status: int = 200, *, extra: Mapping[str, str] | None = None,
             **context: Any) -> Response:  # fmt: skip
        """`name` rendered with `context` (and the style sheet's address), as an answer with
        the pages' headers and any `extra` ones."""
        html = self._env.get_template(name).render(stylesheet=_STYLESHEET_HREF, **context)
        headers = {**PAGE_HEADERS, **(extra or {})}
        return Response(html, status_code=status, headers=headers, media_type=_HTML)

    def error(self, status: int, heading: str, message: str, *,
              extra: Mapping[str, str] | None = None) -> Response:  # fmt: skip
        return self.page("error.html", status, extra=extra, heading=heading, message=message)

    def css(self) -> Response:
        headers = {"cache-control": "public, max-age=300", "x-content-type-options": "nosniff"}
        return Response(self.stylesheet, headers=headers, media_type="text/css; charset=utf-8")
