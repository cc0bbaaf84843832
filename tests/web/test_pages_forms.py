"""What the pages read from a POST, over real HTTP: the preference page's own Save fits the form
bounds however many groups the address has and however long their names (the page shows at
most `MAX_GROUPS`); a refused link's large or endless body is not drained; and a one-click body
is read as RFC 8058 says (one `List-Unsubscribe=One-Click` field, whatever else comes with
it), not to the letter of one encoding."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit
from uuid import uuid4

import pytest

from adapters.web.page_forms import BODY_LIMIT, MAX_GROUPS
from engage_core.consent.changes import ConsentChange, GroupChange
from engage_core.consent.contacts import MAX_GROUP_NAME, ContactKey
from engage_core.consent.rules import Provenance, SourceKind, SubscriptionStatus, Update
from tests.web.page_service import PageService, email, operator, page_service, token

SUBSCRIBED, UNSUBSCRIBED = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.UNSUBSCRIBED
FORM = {"content-type": "application/x-www-form-urlencoded"}
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageService]:
    with page_service(tmp_path_factory.mktemp("pages-forms")) as service:
        yield service


def long_name(n: int) -> str:
    """A group name as long as names go, each character 4 UTF-8 bytes (CJK Extension B), so
    12 bytes URL-encoded: the largest a browser can post."""
    name = "".join(chr(0x20000 + n * MAX_GROUP_NAME + i) for i in range(MAX_GROUP_NAME))
    assert len(name.encode()) == 4 * MAX_GROUP_NAME
    return name


def subscribed_to(pages: PageService, contact: ContactKey, names: list[str]) -> None:
    """`contact` subscribed to each of `names`, in that order, in one change."""
    now = datetime.now(UTC)
    changes: list[ConsentChange] = [
        GroupChange(contact, name, update=Update(
            SUBSCRIBED, Provenance(SourceKind.API, f"seed-{uuid4().hex}", now, now)))
        for name in names
    ]  # fmt: skip
    pages.app.change_consent(changes)


def shown_groups(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'name="group" value="([^"]*)"', page)]


def test_the_page_shows_at_most_max_groups_and_its_own_save_fits(pages: PageService) -> None:
    contact = email("manygroups")
    operator(pages.app, contact, SUBSCRIBED)
    names = [long_name(n) for n in range(MAX_GROUPS + 1)]
    subscribed_to(pages, contact, names)
    path = f"/preferences/{token(contact, group=names[-1])}"
    page = pages.client.get(path)
    assert page.status_code == 200
    shown = shown_groups(page.text)
    # the first groups the address got, and the link's own however late it came
    assert shown == [*names[: MAX_GROUPS - 1], names[-1]]
    assert "1 more topic is not listed here" in page.text
    form = [("channel", "UNSUBSCRIBED")]
    form += [(field, name) for name in shown for field in ("group", "subscribed")]
    body = urlencode(form)  # as a browser encodes it: each of these characters is 12 bytes
    assert BODY_LIMIT - 16 * 1024 < len(body) <= BODY_LIMIT
    answer = pages.client.post(path, content=body, headers=FORM)
    assert answer.status_code == 303, answer.text
    assert pages.app.subscription(contact).state.status is UNSUBSCRIBED
    multipart = [("channel", (None, "SUBSCRIBED"))]  # the same form, multipart: fewer bytes
    multipart += [(field, (None, value)) for field, value in form[1:]]
    assert pages.client.post(path, files=multipart).status_code == 303
    now = pages.app.subscription(contact, groups=names)
    assert now.state.status is SUBSCRIBED
    assert {state.status for state in now.groups.values()} == {SUBSCRIBED}


def exchange(pages: PageService, head: str, body: bytes) -> tuple[bytes, bool]:
    """`head` and the start of its body sent on a socket of its own; what came back within a
    second or two, and whether the server closed the connection by then."""
    address = urlsplit(pages.url)
    with socket.create_connection((address.hostname, address.port), timeout=2) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:  # still open, waiting for the rest of the body
            return answer, False
        return answer, True


@pytest.mark.parametrize("framing", [
    f"content-length: {200 * 1024 * 1024}",  # 200 MiB declared, a little of it sent
    "transfer-encoding: chunked",  # of no known length
])  # fmt: skip
def test_a_refused_link_does_not_drain_a_large_body(pages: PageService, framing: str) -> None:
    head = (f"POST /unsubscribe/not-a-token HTTP/1.1\r\nhost: localhost\r\n"
            f"content-type: {FORM['content-type']}\r\n{framing}\r\n")  # fmt: skip
    body = b"4000\r\n" + b"x" * 0x4000 + b"\r\n" if "chunked" in framing else b"x" * 0x4000
    answer, closed = exchange(pages, head, body)
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert closed  # not kept open to read and throw away the rest


def test_a_refused_link_with_a_small_body_keeps_the_connection(pages: PageService) -> None:
    answer = pages.client.post("/unsubscribe/not-a-token", data=ONE_CLICK)
    assert answer.status_code == 403
    assert answer.headers.get("connection") != "close"


@pytest.mark.parametrize("body", [
    "List-Unsubscribe=One-Click\n",  # a trailing newline
    "List-Unsubscribe=One-Click\r\n",
    " List-Unsubscribe=One-Click",  # a leading space
    "List-Unsubscribe=One-Click&",  # a trailing &
    "List-Unsubscribe=One-Click&foo=bar",  # a field of the mail client's own
    "foo=bar&&List-Unsubscribe=%20One-Click%20",
    "List-Unsubscribe=One-Click&surface=elsewhere",  # surface is only the page's button
    "List-Unsubscribe=One-Click&junk=%FF",  # a field that is not UTF-8
])  # fmt: skip
def test_a_one_click_body_is_read_as_rfc_8058_says(pages: PageService, body: str) -> None:
    contact = email("lenient")
    operator(pages.app, contact, SUBSCRIBED)
    answer = pages.client.post(f"/unsubscribe/{token(contact)}", content=body, headers=FORM)
    assert answer.status_code == 200, answer.text
    assert pages.app.subscription(contact).state.status is UNSUBSCRIBED
    subscription = pages.app.channel_subscription(contact)
    assert subscription is not None
    proof = subscription.updates[-1].provenance.proof
    assert proof is not None
    assert proof.surface == "one_click"


def test_a_multipart_one_click_with_another_field_unsubscribes(pages: PageService) -> None:
    contact = email("multipartextra")
    operator(pages.app, contact, SUBSCRIBED)
    sent = {"List-Unsubscribe": (None, "One-Click\r\n"), "client": (None, "mailer/2")}
    answer = pages.client.post(f"/unsubscribe/{token(contact)}", files=sent)
    assert answer.status_code == 200, answer.text
    assert pages.app.subscription(contact).state.status is UNSUBSCRIBED
