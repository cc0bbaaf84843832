"""Overridden templates that fail: at start when rendering them with their samples fails (the
file and line named), at a contact's request by the built-in template shown instead with the
same status (and one log line, no traceback, no token); and the samples the start renders are
the very variables the pages pass."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.web import WebSettings, create_app
from adapters.web.page_render import SAMPLES, TEMPLATE_NAMES, PageTemplates
from engage_core.channels import Channel
from engage_core.consent.confirmation import ConsentSettings
from engage_core.consent.rules import SubscriptionStatus
from engage_core.links import LinkPurpose
from tests.web.page_service import PageService, email, operator, page_service, token

SUBSCRIBED, UNSUBSCRIBED = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
# fails only for a group no sample has, and for a 400 page: branches the start cannot reach
UNSUBSCRIBED_HTML = (
    '{% extends "base.html" %}{% block content %}<h1>Fini</h1>\n'
    '{% if group == "special" %}{{ {}[action] }}{% endif %}{% endblock %}'
)
ERROR_HTML = (
    '{% extends "base.html" %}{% block content %}<h1>{{ heading }}</h1>\n\n'
    '{% if heading == "This form could not be read" %}{{ 1 // 0 }}{% endif %}{% endblock %}'
)


@pytest.fixture(scope="module")
def overridden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageService]:
    folder = tmp_path_factory.mktemp("pages-render")
    templates = folder / "templates"
    templates.mkdir()
    (templates / "unsubscribed.html").write_text(UNSUBSCRIBED_HTML, "utf-8")
    (templates / "error.html").write_text(ERROR_HTML, "utf-8")
    with page_service(folder, templates_dir=str(templates)) as service:
        yield service


@pytest.mark.parametrize(("name", "source", "where"), [
    ("preferences.html", '{% extends "base.html" %}\n{% block content %}\n{{ contact_name }}'
     "{% endblock %}", r"preferences.html, line 3: UndefinedError: 'contact_name' is undefined"),
    ("base.html", "<html>\n{{ contact.nope }}</html>", r"base.html, line 2: UndefinedError"),
    ("confirm.html", '{% extends "base.html" %}{% block content %}\n'
     '{% if state == "nothing" %}{{ 1 // 0 }}{% endif %}{% endblock %}',
     r"confirm.html, line 2: ZeroDivisionError"),
])  # fmt: skip
def test_an_override_failing_with_its_samples_stops_the_start(
    tmp_path: Path, name: str, source: str, where: str
) -> None:
    (tmp_path / name).write_text(source, "utf-8")
    settings = WebSettings.from_environment({"ENGAGE_TEMPLATES": str(tmp_path)})
    with pytest.raises(ValueError, match=rf"^ENGAGE_TEMPLATES: {where}"):
        create_app(None, settings)


def test_the_shipped_templates_render_every_sample(tmp_path: Path) -> None:
    templates = PageTemplates(str(tmp_path))  # an empty override folder: each shipped one checked
    for name in TEMPLATE_NAMES:
        assert SAMPLES[name], name
        for context in SAMPLES[name]:
            answer = templates.page(name, 200, **context)
            html = bytes(answer.body).decode()
            assert answer.status_code == 200
            assert html.lstrip().lower().startswith("<!doctype html>"), name
            assert "../pages/engage.css" in html, name
            assert "{{" not in html, name
            assert "<script" not in html.lower(), name  # the pages need no JavaScript


def test_an_override_failing_at_a_request_shows_the_builtin_page(
    overridden: PageService, caplog: pytest.LogCaptureFixture
) -> None:
    contact = email("fallback")
    operator(overridden.app, contact, SUBSCRIBED, group="special")
    link = token(contact, group="special")
    with caplog.at_level(logging.INFO, logger="engage"):
        answer = overridden.client.post(f"/unsubscribe/{link}", data=ONE_CLICK)
    assert answer.status_code == 200
    assert "You are unsubscribed" in answer.text  # the shipped page, not a JSON 500
    now = overridden.app.subscription(contact, groups=["special"])
    assert now.groups["special"].status is UNSUBSCRIBED
    [failed] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    line = failed.getMessage()
    assert "unsubscribed.html, line 2" in line
    assert failed.exc_info is None  # one line, no traceback
    assert link not in line
    assert link not in str(vars(failed))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="engage"):
        answer = overridden.client.post(f"/preferences/{link}", data={"channel": "MAYBE"})
    assert answer.status_code == 400  # the status the page had
    assert "SUBSCRIBED or UNSUBSCRIBED" in answer.text
    [failed] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "error.html, line 3" in failed.getMessage()
    assert "ZeroDivisionError" in failed.getMessage()


def test_the_samples_are_the_variables_the_pages_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passed: dict[str, set[str]] = defaultdict(set)
    page = PageTemplates.page

    def spied(self: PageTemplates, name: str, *args: Any, **context: Any) -> Any:
        passed[name] |= set(context) - {"extra"}
        return page(self, name, *args, **context)

    monkeypatch.setattr(PageTemplates, "page", spied)
    with page_service(tmp_path) as service:
        monkeypatch.setattr(
            service.app, "consent_settings", ConsentSettings(confirm={Channel.EMAIL})
        )
        contact = email("samples")
        operator(service.app, contact, SUBSCRIBED)
        manage, confirming = token(contact, group="news"), token(contact, LinkPurpose.CONFIRM)
        client = service.client
        assert client.get(f"/preferences/{manage}").status_code == 200
        assert client.get(f"/unsubscribe/{manage}").status_code == 200
        assert client.get(f"/confirm/{confirming}").status_code == 200
        assert client.post(f"/confirm/{confirming}").status_code == 200
        assert client.post(f"/unsubscribe/{manage}", data=ONE_CLICK).status_code == 200
        assert client.get("/unsubscribe/not-a-token").status_code == 403
        assert client.post(f"/preferences/{manage}", data={"x": "1"}).status_code == 400
    expected = {name: set().union(*SAMPLES[name]) for name in TEMPLATE_NAMES}
    assert dict(passed) == {name: keys for name, keys in expected.items() if name != "base.html"}
