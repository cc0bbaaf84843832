"""The contact's pages as HTML: Jinja2 templates, autoescaped, that a deployment overrides file
by file, and the headers every page is sent with.

A deployment's directory (`ENGAGE_TEMPLATES`) comes first, the templates shipped in
`adapters/web/templates/` after it, so an override replaces one file (its wording, its
language, the style sheet) and the rest stay. Every template is read and compiled when the app
is made, and each override rendered once with the variables its page is given (`SAMPLES`,
which the tests hold to what the pages pass): a broken override stops the service at start,
naming the file and line, not at a contact's click. One that still fails for a value no sample
had (a branch only some contact reaches) is logged in one line naming the file and line, and
the built-in template of the same name is shown instead, with the same status: the contact
still gets the right answer, and what was done (a one-click already recorded) is said.

The notice version a proof records is the deployment's (`ENGAGE_NOTICE_VERSION`), else a
digest of the templates in use, so the evidence names the very wording shown even when nobody
set one.

The headers keep a page's link (a credential) where it is: no `Referer` leaves it, no cache
keeps it, no other site frames the page (a framed one-click button could be clicked by a
trick), and the page loads nothing but its own style sheet.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from starlette.responses import Response

from adapters.web.settings import TEMPLATES_VAR
from engage_core.channels import Channel
from engage_core.consent.contacts import ContactKey

__all__ = [
    "BUILTIN_TEMPLATES", "PAGE_HEADERS", "SAMPLES", "STYLESHEET", "STYLESHEET_PATH",
    "TEMPLATE_NAMES", "PageTemplates", "channel_words", "masked",
]  # fmt: skip

LOG = logging.getLogger("engage.pages")

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
CONFIRM_STATES = ("pending", "confirmed", "nothing")  # what a confirmation link finds
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
        self._folders = [str(Path(directory).resolve())] if directory else []
        self._env = _environment([*self._folders, str(BUILTIN_TEMPLATES)])
        # the shipped templates alone, shown when an override fails to render
        self._builtin = _environment([str(BUILTIN_TEMPLATES)]) if directory else None
        loader = self._env.loader
        assert loader is not None
        digest = hashlib.sha256()
        for name in (*TEMPLATE_NAMES, STYLESHEET):
            source, _, _ = loader.get_source(self._env, name)
            digest.update(f"{name}\0{source}\0".encode())
            if name != STYLESHEET:
                self._checked(name)
        self.stylesheet = loader.get_source(self._env, STYLESHEET)[0]
        self.notice = notice or f"templates-sha256:{digest.hexdigest()[:16]}"

    def _checked(self, name: str) -> None:
        """`name` compiled now and, when overridden, rendered with its samples: a broken
        override stops the start, naming the variable, the file and the line."""
        try:
            template = self._env.get_template(name)
            for context in SAMPLES[name] if self._builtin is not None else ():
                template.render(stylesheet=_STYLESHEET_HREF, **context)
        except Exception as error:  # an override is the deployment's code: whatever it raises
            where, _ = self._where(error, name)
            raise ValueError(f"{TEMPLATES_VAR}: {where}: {_reason(error, {})}") from None

    def page(self, name: str, status: int = 200, *, extra: Mapping[str, str] | None = None,
             **context: Any) -> Response:  # fmt: skip
        """`name` rendered with `context` (and the style sheet's address), as an answer with
        the pages' headers and any `extra` ones; the built-in `name` when an override fails."""
        variables = {"stylesheet": _STYLESHEET_HREF, **context}
        try:
            html = self._env.get_template(name).render(variables)
        except Exception as error:
            if self._builtin is None:  # the shipped templates failing is a bug: a 500
                raise
            self._failed(name, error, variables)
            html = self._builtin.get_template(name).render(variables)
        headers = {**PAGE_HEADERS, **(extra or {})}
        return Response(html, status_code=status, headers=headers, media_type=_HTML)

    def error(self, status: int, heading: str, message: str, *,
              extra: Mapping[str, str] | None = None) -> Response:  # fmt: skip
        return self.page("error.html", status, extra=extra, heading=heading, message=message)

    def css(self) -> Response:
        headers = {"cache-control": "public, max-age=300", "x-content-type-options": "nosniff"}
        return Response(self.stylesheet, headers=headers, media_type="text/css; charset=utf-8")

    def _failed(self, name: str, error: Exception, variables: Mapping[str, Any]) -> None:
        """One line, no traceback: which file and line failed and why (the page's values, a
        link's token among them, taken out of the reason)."""
        where, path = self._where(error, name)
        reason = _reason(error, variables)
        LOG.error("page template %s failed to render, the built-in %s was shown instead: %s",
                  where, name, reason, extra={"engage": {
                      "event": "page_template_failed", "template": name, "file": path,
                      "reason": reason}})  # fmt: skip

    def _where(self, error: Exception, name: str) -> tuple[str, str | None]:
        """Where a template failed, as `file, line N` (the file relative to its folder), and
        the file's path: the innermost template frame of the traceback (Jinja gives its frames
        the template's file and line), else the error's own line (a syntax error's)."""
        folders = [*self._folders, str(BUILTIN_TEMPLATES)]
        frames = traceback.extract_tb(error.__traceback__)
        for frame in reversed(frames):
            folder = next((f for f in folders if frame.filename.startswith(f + "/")), None)
            if folder is not None:
                relative = frame.filename[len(folder) + 1 :]
                return f"{relative}, line {frame.lineno}", frame.filename
        line = getattr(error, "lineno", None)
        named = getattr(error, "name", None) or name
        return (f"{named}, line {line}" if line else named), getattr(error, "filename", None)


def _environment(folders: list[str]) -> Environment:
    return Environment(loader=FileSystemLoader(folders), autoescape=True,
                       undefined=StrictUndefined, auto_reload=False)  # fmt: skip


def _reason(error: Exception, variables: Mapping[str, Any]) -> str:
    """The error's message, short, with every long text value the page was given (the link's
    token, in `action` and `preferences`) masked: a log line never holds a credential."""
    text = error.message if isinstance(error, TemplateError) and error.message else str(error)
    for value in sorted((v for v in variables.values() if isinstance(v, str) and len(v) >= 16),
                        key=len, reverse=True):  # fmt: skip
        text = text.replace(value, "[…]")
    return f"{type(error).__name__}: {text}"[:300]


def _samples() -> dict[str, list[dict[str, Any]]]:
    """Each page's variables as the pages give them, in the states its branches test."""
    about = {"contact": "j•••@example.com", **channel_words(Channel.EMAIL)}
    linked = {**about, "action": "t0ken"}
    leave = {**linked, "preferences": "../preferences/t0ken"}
    groups = [{"name": "News", "subscribed": True, "status": "SUBSCRIBED"},
              {"name": "Offers", "subscribed": False, "status": None}]  # fmt: skip
    return {
        "base.html": [{}],
        "preferences.html": [
            {**linked, "saved": True, "channel": "SUBSCRIBED", "pending": False,
             "groups": groups, "more_groups": 2},
            {**linked, "saved": False, "channel": None, "pending": True, "groups": [],
             "more_groups": 0},
        ],
        "unsubscribe.html": [{**leave, "group": "News", "already": True},
                             {**leave, "group": None, "already": False}],
        "unsubscribed.html": [{**leave, "group": "News"}, {**leave, "group": None}],
        "confirm.html": [{**linked, "state": state} for state in CONFIRM_STATES],
        "confirmed.html": [about],
        "invalid_link.html": [{}],
        "error.html": [{"heading": "Too much was sent", "message": "A form is at most 1 KiB."}],
    }  # fmt: skip


SAMPLES = _samples()  # an override is rendered with each at start (besides `stylesheet`)
