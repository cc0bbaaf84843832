"""The embedding API as docs/service.md shows it: `create_app` mounted in a Starlette or a
FastAPI app of your own (served for real), and `handle_webhook` called from a plain function,
as a Django or Flask view would."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from adapters.stores import open_application
from adapters.web import WebSettings, create_app, handle_webhook
from engage_core import Channel, EngageApplication
from engage_core.limits import Limits
from tests.web.conftest import running
from tests.web.signing import ENVIRON, VERIFY_TOKEN, twilio, twilio_params

SETTINGS = WebSettings.from_environment(ENVIRON)
PATH = "/engage/webhooks/twilio"


async def home(_: Request) -> PlainTextResponse:
    return PlainTextResponse("your own app")


def test_mounted_in_your_starlette_app_with_your_application(engage_app: EngageApplication) -> None:
    engage = create_app(engage_app, SETTINGS)
    yours = Starlette(routes=[Route("/", home), Mount("/engage", engage)])
    with running(yours) as url, httpx.Client(base_url=url) as client:
        assert client.get("/").text == "your own app"
        assert client.get("/engage/healthz").json() == {"status": "ok"}
        body, headers = twilio(url + PATH, twilio_params("SM1"))  # the mount's prefix is signed
        answer = client.post(PATH, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
    assert engage_app.find_message(Channel.SMS, "SM1") is not None


def test_mounted_in_your_fastapi_app_with_its_lifespan(tmp_path: Path) -> None:
    """As docs/service.md shows it: the mount's lifespan handed to FastAPI's, so the store is
    opened and the views are kept caught up by the service's own follower."""
    from fastapi import FastAPI

    store = f"sqlite:///{tmp_path / 'fastapi.db'}"
    engage = create_app(settings=attrs.evolve(SETTINGS, store_url=store))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with engage.router.lifespan_context(engage):
            yield

    yours = FastAPI(lifespan=lifespan)

    @yours.get("/")
    def read_home() -> dict[str, str]:
        return {"app": "yours"}

    yours.mount("/engage", engage)
    with running(yours) as url, httpx.Client(base_url=url) as client:
        assert client.get("/").json() == {"app": "yours"}
        body, headers = twilio(url + PATH, twilio_params("SM6"))
        answer = client.post(PATH, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert client.post(PATH, content=body, headers={}).status_code == 415
        deadline = time.monotonic() + 20
        while (ready := client.get("/engage/readyz").json()).get("lag") != 0:
            assert time.monotonic() < deadline, ready  # the follower catches the views up
            time.sleep(0.05)
        assert ready["position"] > 0
    reopened = open_application(store)
    assert reopened.find_message(Channel.SMS, "SM6") is not None
    reopened.close()


def test_mounted_opening_its_own_store_with_your_lifespan(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'mounted.db'}"
    engage = create_app(settings=attrs.evolve(SETTINGS, store_url=store))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with engage.router.lifespan_context(engage):  # opens, then closes, the store
            yield

    yours = Starlette(routes=[Mount("/engage", engage)], lifespan=lifespan)
    with running(yours) as url, httpx.Client(base_url=url) as client:
        body, headers = twilio(url + PATH, twilio_params("SM2"))
        assert client.post(PATH, content=body, headers=headers).status_code == 200
        assert client.get("/engage/readyz").json()["status"] == "ready"
    reopened = open_application(store)
    assert reopened.find_message(Channel.SMS, "SM2") is not None
    reopened.close()


def webhook_view(
    app: EngageApplication, provider: str, method: str, url: str, headers: dict[str, str],
    body: bytes | io.BytesIO,
) -> tuple[int, bytes]:  # fmt: skip
    """What a Django or Flask view does: hand the request over, send the answer back."""
    status, _, content = handle_webhook(provider, method, url, headers, body,
                                        application=app, settings=SETTINGS)  # fmt: skip
    return status, content


def test_handle_webhook_from_a_plain_function(engage_app: EngageApplication) -> None:
    url = "https://engage.example.com/webhooks/twilio"
    body, headers = twilio(url, twilio_params("SM3"))
    assert webhook_view(engage_app, "twilio", "POST", url, headers, body)[0] == 200
    assert engage_app.find_message(Channel.SMS, "SM3") is not None
    unsigned = {"Content-Type": headers["Content-Type"]}
    assert webhook_view(engage_app, "twilio", "POST", url, unsigned, body)[0] == 401
    assert webhook_view(engage_app, "twilio", "POST", url, {}, body)[0] == 415  # no type
    assert webhook_view(engage_app, "twilio", "GET", url, headers, b"")[0] == 405
    assert webhook_view(engage_app, "mailgun", "POST", url, headers, body)[0] == 404
    query = f"?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42"
    meta_url = "https://engage.example.com/webhooks/meta" + query
    assert webhook_view(engage_app, "meta", "GET", meta_url, {}, b"") == (200, b"42")


def test_handle_webhook_reads_a_stream_only_up_to_the_limit(engage_app: EngageApplication) -> None:
    settings = attrs.evolve(SETTINGS, limits=Limits(provider_body_bytes=1024))
    url = "https://engage.example.com/webhooks/twilio"
    body, headers = twilio(url, {**twilio_params("SM4"), "Body": "y" * 4000})
    status, _, _ = handle_webhook("twilio", "POST", url, headers, io.BytesIO(body),
                                  application=engage_app, settings=settings)  # fmt: skip
    assert status == 413
    (entry,) = engage_app.held()
    assert (entry.request.body, entry.request.body_size) == (body[:1024], len(body))


def test_the_public_url_setting_applies_to_handle_webhook_too(
    engage_app: EngageApplication,
) -> None:
    settings = attrs.evolve(SETTINGS, public_url="https://engage.example.com")
    body, headers = twilio("https://engage.example.com/webhooks/twilio", twilio_params("SM5"))
    local = "http://10.0.0.7:8000/webhooks/twilio"  # what the server saw, behind the proxy
    status, _, _ = handle_webhook("twilio", "POST", local, headers, body,
                                  application=engage_app, settings=settings)  # fmt: skip
    assert status == 200
